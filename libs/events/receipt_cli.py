"""`python -m libs.events receipt issue|verify|show|list` (registered by libs/events/cli.py).

    receipt issue [--kind day|month|adhoc] [--period P]  sign and keep a receipt of the log now
    receipt verify [ID]                       check receipt ID (default: latest) against the store
    receipt verify --bundle FILE --public-key PEM   a recipient's offline check of its bundle
    receipt show [ID] [--streams S ...]       the signed receipt; with --streams, their bundle
    receipt list                              every receipt issued
    receipt public-key                        the PEM recipients verify with

The signing key comes from Settings (RECEIPT_SIGNING_KEY / RECEIPT_SIGNING_KEY_FILE).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import receipt_store
from libs.events.clock import Clock, system_clock
from libs.events.db import migrate
from libs.events.receipt_keys import SigningKeyError, public_from_pem, public_pem, signing_key
from libs.events.receipts import KINDS, party_bundle, verify_bundle
from libs.events.settings import Settings


def add_parser(sub: Any) -> None:
    """Add `receipt` and its subcommands to the CLI's subparsers."""
    rc = sub.add_parser(
        "receipt", help="signed chain receipts: issue, verify, show"
    ).add_subparsers(dest="receipt_command", required=True)
    issue = rc.add_parser("issue", help="sign and keep a receipt of every stream head")
    issue.add_argument("--kind", choices=KINDS, default="adhoc")
    issue.add_argument("--period", help="YYYY-MM-DD (day) or YYYY-MM (month); adhoc: the time")
    verify = rc.add_parser("verify", help="check a receipt against the store, or a bundle offline")
    verify.add_argument("id", nargs="?", type=int)
    verify.add_argument("--bundle", type=Path, help="a party bundle (JSON) to check offline")
    verify.add_argument("--public-key", type=Path, help="PEM to check with (default: our own)")
    show = rc.add_parser("show", help="a receipt, or a party bundle of --streams")
    show.add_argument("id", nargs="?", type=int)
    show.add_argument("--streams", nargs="+", default=None, help="stream ids: print their bundle")
    rc.add_parser("list", help="every receipt issued")
    rc.add_parser("public-key", help="the public key recipients verify with (PEM)")


async def run(
    args: argparse.Namespace,
    engine: AsyncEngine,
    settings: Settings,
    out: TextIO,
    err: TextIO,
    clock: Clock = system_clock,
) -> int:
    """One receipt subcommand; 0 ok, 1 a check failed or nothing found, 2 bad arguments."""
    command = args.receipt_command
    try:
        if command == "verify" and args.bundle is not None:
            return _verify_bundle(args, settings, out)
        if command != "public-key":
            await migrate(
                engine
            )  # a store older than the receipts table gets it (idempotent, locked)
        if command == "list":
            _dump(await receipt_store.list_receipts(engine), out)
            return 0
        key = signing_key(settings)
    except (SigningKeyError, OSError, ValueError, KeyError, TypeError) as exc:
        err.write(f"{exc}\n")
        return 2
    if command == "public-key":
        out.write(public_pem(key.public_key()))
        return 0
    if command == "issue":
        if args.kind != "adhoc" and not args.period:
            err.write(f"--period is required for --kind {args.kind}\n")
            return 2
        period = args.period or clock().isoformat()
        receipt_id, receipt = await receipt_store.issue_receipt(
            engine, key, args.kind, period, clock
        )
        _dump({"id": receipt_id, **receipt.signed()}, out)
        return 0
    found = await receipt_store.load_receipt(engine, args.id)
    if found is None:
        err.write("no such receipt\n")
        return 1
    receipt_id, receipt = found
    if command == "show":
        shown = (
            receipt.signed()
            if args.streams is None
            else party_bundle(receipt, args.streams, key.public_key())
        )
        _dump({"id": receipt_id, **shown} if args.streams is None else shown, out)
        return 0
    public = _public_key(args.public_key) or key.public_key()
    problems = await receipt_store.verify_stored(engine, receipt, public)
    _dump({"id": receipt_id, "streams": receipt.stream_count, "problems": problems}, out)
    return 1 if problems else 0


def _verify_bundle(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    public = _public_key(args.public_key) or signing_key(settings).public_key()
    bundle = json.loads(args.bundle.read_text())
    problems = verify_bundle(bundle, public)
    _dump({"proofs": len(bundle.get("proofs", [])), "problems": problems}, out)
    return 1 if problems else 0


def _public_key(path: Path | None) -> Ed25519PublicKey | None:
    return public_from_pem(path.read_bytes()) if path is not None else None


def _dump(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
