"""`python -m bench soak`: the real bot, workers and redis-server against the Discord emulator, many
members at once and faults on a seeded schedule, checked from outside (bench/README.md, "Soak").

    .venv/bin/python -m bench soak [--jobs N] [--members N] [--seed N] [--faults all|none|k1,k2] [--json]

Exits 1 when an invariant broke (lost, duplicated, unanswered or late, dead, forged_accepted).
Nothing here imports torch: the workers are separate processes.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.soak.faults import KINDS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bench.soak.check import FAILING, failed
    from bench.soak.run import soak
    from playground.stack import StartupError

    try:
        report = soak(
            jobs=args.jobs,
            members=args.members,
            seed=args.seed,
            kinds=args.faults,
            workers=args.workers,
            grace=args.grace,
            keep=args.keep_logs,
        )
    except StartupError as error:  # a process did not come up: its own output says why
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, default=str) if args.json else table(report, FAILING))
    return 1 if failed(report) else 0


def table(report: dict[str, Any], failing: tuple[str, ...]) -> str:
    figures = [
        "interactions",
        "accepted",
        "results",
        "failures",
        "refusals",
        "lost",
        "duplicated",
        "unanswered",
        "late",
        "slowest_answer_s",
        "dead",
        "refused_starts",
        "forged_accepted",
        "leftover_waiting",
        "orphans",
        "ambiguous",
        "spec_violations",
        "wall_s",
    ]
    lines = [f"soak, seed {report['seed']}:"]
    lines += [
        f"  {name:18}{report[name]}{'   ✗' if name in failing and report[name] else ''}" for name in figures
    ]
    lines.append(
        "  faults injected:  " + (", ".join(f"{k} {v}" for k, v in report["faults"].items()) or "none")
    )
    if report["faults_skipped"]:
        lines.append(
            "  faults skipped:   " + ", ".join(f"{k} {v}" for k, v in report["faults_skipped"].items())
        )
    if report["restarts"]:
        lines.append("  restarts:         " + ", ".join(f"{k} {v}" for k, v in report["restarts"].items()))
    for record, status in report["records"].items():
        lines.append(f"  record {record}: {status}")
    for example in report["spec_violation_examples"]:
        lines.append(f"  spec violation: {example}")
    shown = [f for f in report["findings"] if f["kind"] != "failure"]
    failures = [f for f in report["findings"] if f["kind"] == "failure"]
    if failures:
        lines.append(f"  failure reasons: {sorted({f['what'][:100] for f in failures})}")
    for finding in shown[:40]:
        rest = {k: v for k, v in finding.items() if k not in ("kind",) and v not in (None, [], "")}
        lines.append(f"  - {finding['kind']}: {json.dumps(rest, default=str, ensure_ascii=False)[:1500]}")
    if len(shown) > 40:
        lines.append(f"  … {len(shown) - 40} more findings (--json lists them all)")
    return "\n".join(lines)


def _faults(text: str) -> list[str]:
    if text == "all":
        return list(KINDS)
    if text == "none":
        return []
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kinds {unknown}; known: {', '.join(KINDS)}")
    return kinds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100, help="stop after this many accepted jobs")
    parser.add_argument("--members", type=int, default=10, help="emulated members acting at once")
    parser.add_argument(
        "--seed", type=int, default=1, help="seeds the fault schedule and the members' choices"
    )
    parser.add_argument(
        "--faults", type=_faults, default=list(KINDS), help="all, none, or a comma-separated list"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (tiny model, CPU)")
    parser.add_argument(
        "--grace", type=float, default=180.0, help="seconds to wait for jobs still on their way"
    )
    parser.add_argument(
        "--keep-logs", type=Path, help="keep the processes' logs (and Redis' files) in this folder"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


if __name__ == "__main__":
    sys.exit(main())
