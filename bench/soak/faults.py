"""The fault schedule (drawn from a seeded RNG, placed by accepted-job count, so a seed gives the same
schedule) and what each fault does to the stack, to Discord's answers, or as a hostile member."""

import json
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from bench.soak.members import Ledger, Sent, Traffic
from bench.soak.stack import Stack
from bench.soak.view import Shown, follow_up_label, headline_key
from jobs import keys

PROCESS_FAULTS = ("worker_kill", "bot_kill", "redis_restart")
DISCORD_FAULTS = ("http_429", "http_5xx", "resume", "expired_token")
HOSTILE_PROMPTS = ("prompt_weights", "prompt_invisible", "prompt_wide", "prompt_long")
FORGED_CLICKS = ("click_unknown", "click_no_such_job", "click_retry_succeeded", "click_forged")
RECORDS = ("record_bad_meta", "record_huge_size", "record_huge_prompt")
KINDS = PROCESS_FAULTS + DISCORD_FAULTS + HOSTILE_PROMPTS + FORGED_CLICKS + RECORDS
REFUSE_EXPECTED = ("click_unknown", "click_no_such_job", "click_retry_succeeded")
"""Hostile clicks that must be answered privately and start nothing."""
HUGE_PROMPT_BYTES = 64 * 2**20
MESSAGES = r"/channels/\d+/messages"
WEBHOOK_MESSAGES = r"/webhooks/\d+/[^/]+/messages/[^/]+"


@dataclass(frozen=True)
class Planned:
    after_jobs: int
    kind: str


def schedule(kinds: list[str], jobs: int, rng: random.Random) -> list[Planned]:
    """Each kind at least once, and about once per 40 jobs on long runs, at seeded places between
    the second job and the last few."""
    times = max(1, jobs // 40)
    last = max(2, jobs - max(3, jobs // 10))
    planned = [Planned(rng.randint(min(2, last), last), kind) for kind in kinds for _ in range(times)]
    return sorted(planned, key=lambda p: (p.after_jobs, KINDS.index(p.kind)))


@dataclass
class Injector:
    stack: Stack
    traffic: Traffic
    mallory: int
    rng: random.Random
    injected: Counter = field(default_factory=Counter)
    log: list[tuple[float, str, str]] = field(default_factory=list)
    """(time, kind, detail) of every fault injected."""
    records: dict[str, str] = field(default_factory=dict)
    """Job id of each malformed record written straight into Redis → its kind."""
    skipped: Counter = field(default_factory=Counter)

    @property
    def ledger(self) -> Ledger:
        return self.traffic.ledger

    def run(self, plan: list[Planned], stop: threading.Event) -> None:
        for planned in plan:
            while len(self.ledger.accepted()) < planned.after_jobs and not stop.is_set():
                time.sleep(0.2)
            if stop.is_set():
                return
            detail = self._inject(planned.kind, stop)
            if detail is None:
                self.skipped[planned.kind] += 1
                continue
            self.injected[planned.kind] += 1
            now = time.time()
            self.log.append((now, planned.kind, detail))
            self.stack.recent_faults.append((now, planned.kind))

    def _inject(self, kind: str, stop: threading.Event, patience: float = 120.0) -> str | None:
        """Injects `kind`, waiting (up to `patience`) for what it needs: a result to click, a job
        still waiting for an expired token."""
        deadline = time.monotonic() + patience
        while not stop.is_set():
            detail = getattr(self, kind)()
            if detail is not None or time.monotonic() > deadline:
                return detail
            time.sleep(0.5)
        return None

    # --- the processes -------------------------------------------------------------------------

    def worker_kill(self) -> str:
        name = self.rng.choice(self.stack.worker_names)
        self.stack.kill(name)
        time.sleep(self.rng.uniform(0.2, 2.0))
        self.stack.start_process(name)
        return f"SIGKILL {name}, restarted"

    def bot_kill(self) -> str:
        # Nobody can answer while no bot runs: members wait (nothing is accepted meanwhile).
        with self.traffic.gate.closed():
            self.stack.kill("bot")
            time.sleep(self.rng.uniform(0.2, 2.0))
            self.stack.start_process("bot")
        return "SIGKILL bot, restarted"

    def redis_restart(self) -> str:
        down = self.rng.uniform(0.5, 2.0)
        self.stack.redis.stop()
        time.sleep(down)
        self.stack.redis.start()
        return f"redis-server stopped for {down:.1f}s, started again (append-only file)"

    # --- Discord -------------------------------------------------------------------------------

    def http_429(self) -> str:
        discord = self.stack.discord
        discord.fail_next("POST", MESSAGES, 429, count=3, retry_after=1.0)
        discord.fail_next("PATCH", WEBHOOK_MESSAGES, 429, count=3, retry_after=0.5)
        discord.fail_next("DELETE", WEBHOOK_MESSAGES, 429, count=2, retry_after=0.5)
        return "429 on the next 3 posts, 3 webhook edits, 2 webhook deletes"

    def http_5xx(self) -> str:
        discord = self.stack.discord
        discord.fail_next("POST", MESSAGES, 502, count=2)
        discord.fail_next("PATCH", WEBHOOK_MESSAGES, 500, count=2)
        discord.fail_next("DELETE", WEBHOOK_MESSAGES, 503, count=2)
        return "502/500/503 on the next 2 posts, webhook edits and deletes"

    def resume(self) -> str:
        self.stack.discord.reconnect()
        return "RECONNECT (op 7): the bot resumes"

    def expired_token(self) -> str | None:
        snapshot = self.ledger.snapshot
        waiting = [s for s in self.ledger.accepted() if s.key and not snapshot.finished(s.key)]
        if not waiting:
            return None
        sent = waiting[-1]
        self.stack.discord.expire_token(sent.interaction.token)
        return f"expired the token of {sent.key}"

    # --- hostile members -----------------------------------------------------------------------

    def _prompt(self, kind: str, prompt: str) -> str:
        sent = self.ledger.slash(self.mallory, prompt, kind, fault=kind, bot_up=self.stack.bot_up())
        self.ledger.wait_answer(sent)
        return f"/imagine of {len(prompt)} characters"

    def prompt_weights(self) -> str:
        tag = self.ledger.new_tag()
        parts = [f"{tag} part{n} " + "lorem ipsum dolor " * 16 for n in range(5)]  # 5 × ~300 characters
        return self._prompt("prompt_weights", " :: ".join(part.strip() + "::1" for part in parts))

    def prompt_invisible(self) -> str:
        count = self.injected["prompt_invisible"] + 1  # a different prompt each time: its own headline
        return self._prompt("prompt_invisible", "\u200b\u2060\ufeff\u200d" * count + "\u00ad")

    def prompt_wide(self) -> str:
        return self._prompt("prompt_wide", f"{self.ledger.new_tag()} a wide banner --ar 100000:1")

    def prompt_long(self) -> str:
        tag = self.ledger.new_tag()
        body = " ".join(f"snake_case_*word*_{n}" for n in range(400))
        return self._prompt("prompt_long", f"{tag} {body}"[:3990])

    # --- forged clicks -------------------------------------------------------------------------

    def _results(self) -> list[Shown]:
        return [s for s in self.ledger.snapshot.clickable() if s.state == "result"]

    def _hand_made(
        self, kind: str, custom_id: Callable[[Shown], str], key: Callable[[Shown], str] | None
    ) -> str | None:
        for shown in self.rng.sample(self._results(), min(5, len(self._results()))):
            if key is not None and not self.ledger.reserve(key(shown)):
                continue
            target = custom_id(shown)
            sent = self.ledger.click(
                self.mallory, shown.id, target, kind, fault=kind, bot_up=self.stack.bot_up(), unlisted=True
            )
            self.ledger.wait_answer(sent)
            return f"{target} on message {shown.id}"
        return None

    def click_unknown(self) -> str | None:
        return self._hand_made("click_unknown", lambda shown: "evil:1", None)

    def click_no_such_job(self) -> str | None:
        return self._hand_made(
            "click_no_such_job", lambda _: f"imagine:upscale:{secrets.token_hex(16)}:1", None
        )

    def click_retry_succeeded(self) -> str | None:
        return self._hand_made(
            "click_retry_succeeded",
            lambda shown: f"imagine:retry:{job_of(shown)}",
            lambda shown: headline_key(shown.title, shown.label, self.mallory),
        )

    def click_forged(self) -> str | None:
        for shown in self._results():
            for button in shown.buttons:
                label = follow_up_label(shown, button)
                if label is None or not self.ledger.reserve(headline_key(shown.title, label, self.mallory)):
                    continue
                sent = self.ledger.click(
                    self.mallory,
                    shown.id,
                    button["custom_id"],
                    "click_forged",
                    bot_up=self.stack.bot_up(),
                    forged=True,
                )
                self.ledger.wait_answer(sent)
                return f"{button['custom_id']} on message {shown.id}, forged=True"
        return None

    # --- malformed records ---------------------------------------------------------------------

    def _template(self) -> dict | None:
        redis = Redis.from_url(self.stack.redis.url)
        for shown in self._results():
            raw = redis.get(keys.spec_key(job_of(shown)))
            spec = json.loads(raw) if raw else None
            if spec and spec.get("op") == "imagine":
                return spec
        return None

    def _write(self, kind: str, spec: object, meta: bytes | None = None) -> str:
        redis = Redis.from_url(self.stack.redis.url)
        queue = Queue(keys.queue_name("tiny"), connection=redis, serializer=JSONSerializer)
        job_id = secrets.token_hex(16)
        if isinstance(spec, dict):
            spec["job_id"] = job_id
        job = Job.create(
            "worker.tasks.imagine",
            kwargs={"spec": spec},
            connection=redis,
            id=job_id,
            origin=queue.name,
            status=JobStatus.QUEUED,
            timeout=120,
            serializer=JSONSerializer,
        )
        job.save()
        if meta is not None:
            redis.hset(job.key, "meta", meta)
        queue.push_job_id(job_id)
        self.records[job_id] = kind
        return f"job {job_id} written into {queue.name}"

    def record_bad_meta(self) -> str | None:
        spec = self._template()
        return None if spec is None else self._write("record_bad_meta", spec, meta=b"\x80{not json")

    def record_huge_size(self) -> str | None:
        spec = self._template()
        if spec is None:
            return None
        spec["generation"].update(width=4096, height=4096)
        return self._write("record_huge_size", spec)

    def record_huge_prompt(self) -> str | None:
        spec = self._template()
        if spec is None:
            return None
        spec["generation"]["prompt"] = [{"text": "a" * HUGE_PROMPT_BYTES, "weight": 1.0}]
        return self._write("record_huge_prompt", spec)


def job_of(shown: Shown) -> str:
    for button in shown.buttons:
        match = re.search(r"[0-9a-f]{32}", button.get("custom_id") or "")
        if match:
            return match[0]
    raise LookupError(f"message {shown.id} has no button naming a job")


def expected_refusal(sent: Sent) -> bool:
    return sent.fault in REFUSE_EXPECTED
