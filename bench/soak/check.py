"""The invariant, checked from outside, from what the emulator saw: every interaction answered within
3 s; every accepted job ends in exactly one visible result or one visible failure; no process that
the harness did not kill exited; hostile clicks start nothing."""

import dataclasses
from collections import Counter
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from bench.soak.faults import Injector, expected_refusal
from bench.soak.members import Ledger, Sent
from bench.soak.stack import Stack
from bench.soak.view import Snapshot
from emulator import DiscordEmulator

FAILING = ("lost", "duplicated", "unanswered", "late", "dead", "forged_accepted")
"""Figures that must be 0."""


def _answers(emulator: DiscordEmulator, sent: list[Sent]) -> list[dict[str, Any]]:
    answers = []
    for s in sent:
        i = s.interaction
        text = (i.response_data or {}).get("content") or ""
        if not text and i.ephemeral:
            text = i.ephemeral[0].get("content") or ""
        answers.append({"acknowledged_at": i.acknowledged_at, "created_at": i.created_at, "text": text})
    return answers


def _refused_requests(emulator: DiscordEmulator, keys: set[str]) -> dict[str, list[str]]:
    """Requests of the bot's that Discord refused and whose content names one of `keys`."""
    found: dict[str, list[str]] = {}
    for request in emulator.requests:
        content = (
            ((request.get("json") or {}).get("content") or "")
            if isinstance(request.get("json"), dict)
            else ""
        )
        if (request["status"] or 0) < 400 or not content:
            continue
        for key in keys:
            if content.startswith(key):
                found.setdefault(key, []).append(
                    f"{request['method']} {request['path']} → {request['status']}"
                )
    return found


def check(
    ledger: Ledger, snapshot: Snapshot, injector: Injector, stack: Stack, *, answer_within: float, wall: float
) -> dict[str, Any]:
    discord = stack.discord
    answers = discord.call(_answers, ledger.sent)
    findings: list[dict[str, Any]] = []
    starts = [s.sent_at for s in ledger.sent] or [0.0]
    origin = min(starts)

    def faults_after(at: float, limit: int = 4) -> list[str]:
        return [f"{kind} at +{t - origin:.1f}s" for t, kind, _ in injector.log if t >= at - 1.0][:limit]

    unanswered = late = refusals = 0
    slowest = 0.0
    for sent, answer in zip(ledger.sent, answers, strict=True):
        where = f"{sent.action} by <@{sent.member}> at +{sent.sent_at - origin:.1f}s"
        context = {
            "fault": sent.fault,
            "bot_process_up": sent.bot_up,
            "faults_near": faults_after(sent.sent_at - 5, 3),
        }
        if answer["acknowledged_at"] is None:
            unanswered += 1
            findings.append({"kind": "unanswered", "what": where, **context})
            continue
        seconds = answer["acknowledged_at"] - answer["created_at"]
        slowest = max(slowest, seconds)
        if seconds > answer_within:
            late += 1
            findings.append({"kind": "late", "what": f"{where}: answered after {seconds:.2f}s", **context})
        if sent.key is None:
            refusals += 1
        elif expected_refusal(sent):
            findings.append({"kind": "forged_accepted", "what": f"{where} started job {sent.key}", **context})

    by_key: dict[str, list[Sent]] = {}
    for sent in ledger.accepted():
        by_key.setdefault(sent.key or "", []).append(sent)
    counts: Counter[str] = Counter()
    broken = {key for key in by_key if snapshot.count(key, "result") + snapshot.count(key, "failure") != 1}
    refused = discord.call(_refused_requests, broken)
    for key, sents in by_key.items():
        results, failures = snapshot.count(key, "result"), snapshot.count(key, "failure")
        waiting = snapshot.by_key.get(key, {}).get("waiting", [])
        first = sents[0]
        detail = {
            "key": key[:300],
            "action": first.action,
            "fault": first.fault,
            "accepted_at": f"+{first.sent_at - origin:.1f}s",
            "faults_after": faults_after(first.sent_at),
            "refused_requests": refused.get(key, [])[:6],
        }
        if len(sents) > 1:
            findings.append(
                {"kind": "ambiguous", **detail, "what": f"{len(sents)} accepted interactions share it"}
            )
        if results + failures == 0:
            counts["lost"] += 1
            state = f"still waiting: {waiting[-1].id}" if waiting else "no message left for it"
            findings.append({"kind": "lost", **detail, "what": state})
        elif results + failures > 1:
            counts["duplicated"] += 1
            what = f"{results} results and {failures} failures"
            findings.append({"kind": "duplicated", **detail, "what": what})
        else:
            counts["results" if results else "failures"] += 1
            if failures:
                reason = snapshot.by_key[key]["failure"][0].reason
                findings.append({"kind": "failure", **detail, "what": reason[:200]})
            if waiting:
                counts["leftover_waiting"] += 1
                findings.append({"kind": "leftover_waiting", **detail, "what": f"message {waiting[-1].id}"})
    accepted_keys = set(by_key)
    orphans = [
        shown
        for shown in snapshot.shown
        if shown.state in ("result", "failure") and shown.key not in accepted_keys
    ]
    for shown in orphans:
        findings.append(
            {
                "kind": "orphan",
                "key": shown.key[:300],
                "what": f"a {shown.state} no answered interaction asked for",
            }
        )
    for record, status in _records(stack, injector).items():
        if status in ("queued", "started", "deferred", "scheduled"):
            findings.append({"kind": "record_not_done", "key": record, "what": f"still {status} at the end"})
    for death in stack.deaths:
        findings.append({"kind": "dead", **dataclasses.asdict(death)})
    violations = discord.violations
    return {
        "interactions": len(ledger.sent),
        "accepted": len(by_key),
        "results": counts["results"],
        "failures": counts["failures"],
        "refusals": refusals,
        "lost": counts["lost"],
        "duplicated": counts["duplicated"],
        "unanswered": unanswered,
        "late": late,
        "slowest_answer_s": round(slowest, 3),
        "dead": len(stack.deaths),
        "refused_starts": len(stack.refused_starts),
        "forged_accepted": sum(f["kind"] == "forged_accepted" for f in findings),
        "leftover_waiting": counts["leftover_waiting"],
        "orphans": len(orphans),
        "ambiguous": sum(f["kind"] == "ambiguous" for f in findings),
        "spec_violations": len(violations),
        "spec_violation_examples": [str(v)[:300] for v in violations[:3]],
        "faults": dict(sorted(injector.injected.items())),
        "faults_skipped": dict(injector.skipped),
        "records": _records(stack, injector),
        "restarts": {name: count - 1 for name, count in stack.starts.items() if count > 1},
        "wall_s": round(wall, 1),
        "findings": findings,
    }


def _records(stack: Stack, injector: Injector) -> dict[str, str]:
    """Each malformed record's RQ status at the end (`kind job` → status)."""
    try:
        redis = Redis.from_url(stack.redis.url, socket_timeout=5)
        return {
            f"{kind} {job_id}": (redis.hget(f"rq:job:{job_id}", "status") or b"gone").decode()
            for job_id, kind in injector.records.items()
        }
    except RedisError as error:
        return {"error": repr(error)}


def failed(report: dict[str, Any]) -> bool:
    return any(report[name] for name in FAILING)
