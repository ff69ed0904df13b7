"""`python -m app.principals`: the admin API's operations from a shell, for every principal kind.

    create --id ID --role ROLE --name NAME [--party P] [--maker M ...] [--outlet O] [--rate-limit L]
    list | rotate --id ID | revoke --id ID | secret --id PLATFORM [--overlap-hours H] | events [--id ID]

The same functions as /admin/* (libs/web/auth.py), on the database Settings points at; a key
or secret is printed once and recorded as a key event with actor "cli".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import timedelta

from libs.events.clock import system_clock
from libs.events.db import create_engine, migrate
from libs.events.settings import Settings
from libs.web import auth


async def _run(args: argparse.Namespace, database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        if args.action == "create":
            key = await auth.create_principal(
                engine, system_clock, id=args.id, role=args.role, name=args.name, party=args.party,
                scopes=tuple(args.maker), outlet_id=args.outlet, rate_limit=args.rate_limit)
            print(f"{args.role} {args.id}: api key {key}    (shown once)")
            if args.role == "platform":
                secret = await auth.add_platform_secret(engine, system_clock, args.id, actor="cli")
                print(f"hmac secret: {secret}    (shown once)")
        elif args.action == "list":
            for principal in await auth.list_principals(engine):
                print(json.dumps(principal, ensure_ascii=False))
        elif args.action == "rotate":
            rotated = await auth.rotate_key(engine, system_clock, args.id, actor="cli")
            if rotated is None:
                print(f"no principal {args.id!r} with a key in force", file=sys.stderr)
                return 1
            print(f"{args.id}: new api key {rotated}    (shown once; the old keys no longer work)")
        elif args.action == "revoke":
            if not await auth.revoke(engine, system_clock, args.id, actor="cli"):
                print(f"no principal {args.id!r} with a key in force", file=sys.stderr)
                return 1
            print(f"{args.id}: every key revoked")
        elif args.action == "secret":
            overlap = timedelta(hours=args.overlap_hours)
            secret = await auth.add_platform_secret(engine, system_clock, args.id, actor="cli", overlap=overlap)
            print(f"{args.id}: new hmac secret {secret}    (shown once; the previous one stays valid {overlap})")
        else:
            for event in await auth.key_history(engine, args.id):
                print(json.dumps(event, default=str, ensure_ascii=False))
    finally:
        await engine.dispose()
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m app.principals", description=__doc__.splitlines()[0])
    actions = top.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a principal of any role, and its first key")
    create.add_argument("--id", required=True)
    create.add_argument("--role", required=True, choices=auth.ROLES)
    create.add_argument("--name", required=True)
    create.add_argument("--party", help="the maker or provider it acts for (default: itself)")
    create.add_argument("--maker", action="append", default=[], help="a further maker (maker staff)")
    create.add_argument("--outlet", help="a technician's outlet")
    create.add_argument("--rate-limit", help='e.g. "20/second;600/minute" (default: Settings.rate_limit)')
    actions.add_parser("list", help="principals with a key in force (no keys)")
    for name, text in (("rotate", "a new key; the old ones stop working"), ("revoke", "revoke every key")):
        actions.add_parser(name, help=text).add_argument("--id", required=True)
    secret = actions.add_parser("secret", help="a new HMAC secret for a platform")
    secret.add_argument("--id", required=True)
    secret.add_argument("--overlap-hours", type=float, default=24.0)
    actions.add_parser("events", help="the key-change audit trail").add_argument("--id")
    return top


def main(argv: Sequence[str] | None = None, database_url: str | None = None) -> int:
    return asyncio.run(_run(parser().parse_args(argv), database_url or Settings().database_url))


if __name__ == "__main__":
    sys.exit(main())
