"""`imagine keys create NAME [--running N …]`, `list`, `revoke ID`: the HTTP API's keys. A new
key is printed once; only a hash of it is kept."""

import argparse
import json
import sys
from datetime import UTC, datetime

from redis import Redis

from api.keys import ApiKey, KeyLimits, KeyStore


def add_parser(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="the HTTP API's keys: create, list, revoke", description=__doc__)
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new key, printed once")
    create.add_argument("name", help="who or what it is for")
    defaults = KeyLimits()
    for name in ("running", "waiting", "hourly"):
        field = KeyLimits.model_fields[name]
        create.add_argument(
            f"--{name}",
            type=int,
            default=getattr(defaults, name),
            help=f"{field.description} ({getattr(defaults, name)})",
        )
    create.add_argument("--max-side", type=int, help="largest image side in pixels (no limit)")
    create.add_argument("--max-steps", type=int, help="most sampling steps (no limit)")
    create.add_argument("--models", help="comma-separated models it may use (all)")
    listing = actions.add_parser("list", help="every key, with its limits")
    listing.add_argument("--json", action="store_true", help="print JSON, for scripts")
    revoke = actions.add_parser("revoke", help="a key stops working at once")
    revoke.add_argument("id", help="the key's id (the part after imk_, before the next _)")


def run(args: argparse.Namespace, redis: Redis, models: list[str]) -> int:
    store = KeyStore(redis)
    if args.action == "create":
        chosen = [name.strip() for name in (args.models or "").split(",") if name.strip()]
        if unknown := [name for name in chosen if name not in models]:
            print(
                f"imagine: --models: {', '.join(unknown)} not in the catalog ({', '.join(models)})",
                file=sys.stderr,
            )
            return 2
        try:
            limits = KeyLimits(
                running=args.running,
                waiting=args.waiting,
                hourly=args.hourly,
                max_side=args.max_side,
                max_steps=args.max_steps,
                models=tuple(chosen),
            )
        except ValueError as error:
            print(f"imagine: {_first_problem(error)}", file=sys.stderr)
            return 2
        key, text = store.create(args.name, limits)
        print(text)
        print(
            f"key {key.id} ({key.name}): shown this once; keep it secret."
            f" Its jobs' webhooks are signed with {key.webhook_secret}",
            file=sys.stderr,
        )
        return 0
    if args.action == "list":
        found = store.all()
        if args.json:
            print(
                json.dumps([key.model_dump(exclude={"digest", "webhook_secret"}) for key in found], indent=2)
            )
        for key in [] if args.json else found:
            print(_line(key))
        return 0
    key = store.revoke(args.id)
    if key is None:
        print(f"imagine: there is no key {args.id}", file=sys.stderr)
        return 2
    print(f"revoked {key.id} ({key.name})")
    return 0


def _line(key: ApiKey) -> str:
    limits = key.limits
    made = datetime.fromtimestamp(key.created, UTC).strftime("%Y-%m-%d %H:%M")
    state = "revoked" if key.revoked else "live"
    parts = [f"running {limits.running}", f"waiting {limits.waiting}", f"hourly {limits.hourly}"]
    if limits.max_side:
        parts.append(f"max side {limits.max_side}")
    if limits.max_steps:
        parts.append(f"max steps {limits.max_steps}")
    parts.append(f"models {', '.join(limits.models) or 'all'}")
    return f"{key.id}  {key.name}  {state}  made {made}  {' · '.join(parts)}"


def _first_problem(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        detail = errors()[0]
        return f"--{'-'.join(str(p) for p in detail['loc']).replace('_', '-')}: {detail['msg']}"
    return str(error)
