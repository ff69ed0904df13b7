"""Operator commands: `python -m services.intake partners create --id X --name Y [--webhook URL]`.

Prints the partner's API key (shown once; only its hash is stored) and its webhook
signing secret. `partners webhook --id X --url URL` sets or (with --clear) removes the
callback URL. The database is the one Settings points at (DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import system_clock
from libs.events.db import create_engine, migrate
from libs.events.settings import Settings
from libs.web import auth
from services.intake.webhooks import ensure_secret


async def create_partner(engine: AsyncEngine, partner_id: str, name: str, webhook: str | None = None,
                         key: str | None = None) -> tuple[str, str]:
    """Create a partner principal (on a migrated database); returns (API key, webhook secret)."""
    api_key = await auth.create_principal(engine, system_clock, id=partner_id, role="partner", name=name,
                                          party=partner_id, key=key, webhook_url=webhook)
    return api_key, await ensure_secret(engine, system_clock, partner_id)


async def _main(args: argparse.Namespace) -> int:
    engine = create_engine(Settings().database_url)
    try:
        await migrate(engine)
        if args.action == "create":
            key, secret = await create_partner(engine, args.id, args.name, args.webhook)
            print(f"partner:        {args.id} ({args.name})")
            print(f"api key:        {key}    (shown once: send it as 'Authorization: Bearer <key>')")
            print(f"webhook secret: {secret}    (verifies X-Signature on status callbacks)")
            if args.webhook:
                print(f"webhook:        {args.webhook}")
        else:
            await auth.set_webhook(engine, args.id, None if args.clear else args.url)
            print(f"webhook of {args.id}: {'removed' if args.clear else args.url}")
            print(f"webhook secret: {await ensure_secret(engine, system_clock, args.id)}")
    finally:
        await engine.dispose()
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m services.intake", description="intake operator commands")
    groups = top.add_subparsers(dest="group", required=True)
    partners = groups.add_parser("partners", help="partner systems and their API keys").add_subparsers(
        dest="action", required=True)
    create = partners.add_parser("create", help="create a partner and print its API key")
    create.add_argument("--id", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--webhook", help="URL for signed status callbacks")
    hook = partners.add_parser("webhook", help="set or remove a partner's callback URL")
    hook.add_argument("--id", required=True)
    target = hook.add_mutually_exclusive_group(required=True)
    target.add_argument("--url")
    target.add_argument("--clear", action="store_true")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(_main(parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
