"""Receipts against a real store on both backends (the `engine` fixture), and their pure checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ManualClock
from libs.events.envelope import GENESIS_HASH, StoredEvent, chain_hash, verify_chain
from libs.events.receipt_store import (
    issue_day_receipt,
    issue_due_receipts,
    issue_month_receipt,
    load_receipt,
    verify_stored,
)
from libs.events.receipts import (
    InclusionProof,
    Receipt,
    StreamHead,
    issue,
    party_bundle,
    party_bundles,
    verify_bundle,
    verify_proof,
    verify_receipt,
)
from libs.events.store import SqlEventStore, store_for
from tests.factories import escalated

pytestmark = pytest.mark.integration

KEY = Ed25519PrivateKey.generate()
DAY = date(2026, 5, 4)


async def _filled(engine: AsyncEngine) -> SqlEventStore:
    store = store_for(engine, ManualClock(datetime(2026, 5, 4, 8, 0, tzinfo=UTC)))
    for n in range(5):
        await store.append(f"order-{n}", [escalated(v) for v in range(n + 1)], 0)
    return store


async def _streams(store: SqlEventStore, receipt: Receipt) -> dict[str, list[StoredEvent]]:
    return {h.stream_id: await store.read_stream(h.stream_id) for h in receipt.heads}


async def test_intact_store_verifies_and_issuing_is_idempotent_per_period(
    engine: AsyncEngine,
) -> None:
    store = await _filled(engine)
    receipt_id, receipt = await issue_day_receipt(engine, KEY, DAY)
    assert (receipt.kind, receipt.period, receipt.stream_count, receipt.head_position) == (
        "day",
        "2026-05-04",
        5,
        15,
    )
    assert [h.stream_id for h in receipt.heads] == [f"order-{n}" for n in range(5)]
    assert await issue_day_receipt(engine, KEY, DAY) == (receipt_id, receipt)
    month_id, _ = await issue_month_receipt(engine, KEY, "2026-05")
    assert month_id != receipt_id
    assert await load_receipt(engine, receipt_id) == (receipt_id, receipt)
    assert verify_receipt(receipt, KEY.public_key(), await _streams(store, receipt)) == []
    assert await verify_stored(engine, receipt, KEY.public_key(), chunk=2) == []


async def test_deleting_the_newest_event_passes_the_chain_check_but_not_the_receipt(
    engine: AsyncEngine,
) -> None:
    store = await _filled(engine)
    _, receipt = await issue_day_receipt(engine, KEY, DAY)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM events WHERE stream_id = 'order-3' AND version = 4"))
    assert await store.verify("order-3") == []  # the chain that is left is a valid chain
    expected = ["stream order-3: receipted at version 4, the store has only 3"]
    assert verify_receipt(receipt, KEY.public_key(), await _streams(store, receipt)) == expected
    assert await verify_stored(engine, receipt, KEY.public_key()) == expected


async def test_removing_a_whole_stream_is_caught(engine: AsyncEngine) -> None:
    await _filled(engine)
    _, receipt = await issue_day_receipt(engine, KEY, DAY)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM events WHERE stream_id = 'order-0'"))
    assert await verify_stored(engine, receipt, KEY.public_key()) == [
        "stream order-0: receipted at version 1, no longer in the store"
    ]


async def test_altered_data_is_caught_even_with_the_chain_rehashed(engine: AsyncEngine) -> None:
    store = await _filled(engine)
    _, receipt = await issue_day_receipt(engine, KEY, DAY)
    stream = await store.read_stream("order-2")
    forged = stream[1].model_copy(update={"data": {**stream[1].data, "reason": "forged"}})
    streams = {**await _streams(store, receipt), "order-2": [stream[0], forged, stream[2]]}
    assert verify_receipt(receipt, KEY.public_key(), streams) == [
        "stream order-2: version 2: content does not match its hash"
    ]
    rehashed = _rechained([stream[0], forged, stream[2]])
    assert verify_chain(rehashed) == []
    problems = verify_receipt(receipt, KEY.public_key(), {**streams, "order-2": rehashed})
    assert problems == ["stream order-2: version 3 is not the receipted one (its hash differs)"]
    async with engine.begin() as conn:  # and in the database itself
        await conn.execute(
            text("UPDATE events SET actor = 'forger' WHERE stream_id = 'order-4' AND version = 2")
        )
    assert await verify_stored(engine, receipt, KEY.public_key()) == [
        "stream order-4: version 2: content does not match its hash"
    ]


async def test_streams_and_events_after_the_receipt_are_fine(engine: AsyncEngine) -> None:
    store = await _filled(engine)
    _, receipt = await issue_day_receipt(engine, KEY, DAY)
    await store.append("order-new", [escalated(1)], 0)
    await store.append("order-1", [escalated(9)], 2)
    assert await verify_stored(engine, receipt, KEY.public_key()) == []
    _, later = await issue_day_receipt(engine, KEY, date(2026, 5, 5))
    assert later.stream_count == 6 and later.head_position == 17 and later.root != receipt.root


async def test_bundle_proofs_verify_and_forgeries_fail(engine: AsyncEngine) -> None:
    await _filled(engine)
    _, receipt = await issue_day_receipt(engine, KEY, DAY)
    bundle = party_bundle(receipt, ["order-3", "order-1", "order-late"], KEY.public_key())
    assert [p["stream_id"] for p in bundle["proofs"]] == ["order-1", "order-3"]
    assert bundle["not_receipted"] == ["order-late"]
    assert verify_bundle(bundle, KEY.public_key()) == []
    forged = {**bundle["proofs"][1], "version": 3}  # an order claimed smaller than it was
    assert verify_bundle({**bundle, "proofs": [forged]}, KEY.public_key()) == [
        "stream order-3: inclusion proof does not verify"
    ]
    moved = {**bundle["proofs"][0], "leaf_index": 2}
    assert not verify_proof(receipt.body(), InclusionProof.from_dict(moved))
    assert verify_bundle({**bundle, "proofs": [{"stream_id": "order-1"}]}, KEY.public_key()) == [
        "proof 0: not an inclusion proof"
    ]
    bad_hex = {**bundle["proofs"][0], "audit_path": ["zz"]}
    assert not verify_proof(receipt.body(), InclusionProof.from_dict(bad_hex))


def test_tampered_signature_or_body_fails() -> None:
    receipt = issue(
        [StreamHead("order-1", 2, "ab" * 32)],
        7,
        "day",
        "2026-05-04",
        datetime(2026, 5, 5, tzinfo=UTC),
        KEY,
    )
    public = KEY.public_key()
    assert verify_receipt(receipt, public, {}) == [
        "stream order-1: receipted at version 2, no longer in the store"
    ]
    signature = bytes.fromhex(receipt.signature)
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert (
        verify_receipt(replace(receipt, signature=tampered.hex()), public, {})[0]
        == "signature does not verify"
    )
    assert (
        verify_receipt(replace(receipt, head_position=8), public, {})[0]
        == "signature does not verify"
    )
    assert (
        verify_receipt(replace(receipt, signature="not hex"), public, {})[0]
        == "signature does not verify"
    )
    other = Ed25519PrivateKey.generate().public_key()
    assert verify_receipt(receipt, other, {})[0] == "receipt was signed with another key"
    swapped = replace(receipt, heads=(StreamHead("order-1", 1, "ab" * 32),))
    assert "the receipted heads do not recompute the Merkle root" in verify_receipt(
        swapped, public, {}
    )
    bundle = party_bundle(receipt, ["order-1"], public)
    assert verify_bundle({**bundle, "receipt": {**bundle["receipt"], "root": "00" * 32}}, public)[
        0
    ] == ("signature does not verify")


def test_issue_refuses_an_unknown_kind_or_two_heads_of_one_stream() -> None:
    when = datetime(2026, 5, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="kind"):
        issue([], 0, "weekly", "x", when, KEY)
    with pytest.raises(ValueError, match="one head per stream"):
        issue(
            [StreamHead("a", 1, "0" * 64), StreamHead("a", 2, "1" * 64)], 2, "day", "x", when, KEY
        )


def _rechained(events: list[StoredEvent]) -> list[StoredEvent]:
    """What a forger with write access would do: recompute every hash after the change."""
    out, prev = [], GENESIS_HASH
    for e in events:
        digest = chain_hash(
            e, stream_id=e.stream_id, version=e.version, recorded_at=e.recorded_at, prev_hash=prev
        )
        out.append(e.model_copy(update={"prev_hash": prev, "hash": digest}))
        prev = digest
    return out


async def test_day_change_hook_issues_the_day_and_on_the_first_the_month(
    engine: AsyncEngine,
) -> None:
    await _filled(engine)
    clock = ManualClock(datetime(2026, 5, 31, 23, 59, tzinfo=UTC))
    clock.advance(minutes=2)  # 2026-06-01 00:01
    issued = await issue_due_receipts(engine, KEY, clock)
    assert [(r.kind, r.period) for _, r in issued] == [("day", "2026-05-31"), ("month", "2026-05")]
    assert await issue_due_receipts(engine, KEY, clock) == issued
    clock.advance(days=1)
    assert [(r.kind, r.period) for _, r in await issue_due_receipts(engine, KEY, clock)] == [
        ("day", "2026-06-01")
    ]


def test_bundles_for_several_parties_each_hold_only_their_own_proofs() -> None:
    heads = [StreamHead(f"order-{n}", n + 1, f"{n:064x}") for n in range(9)]
    receipt = issue(heads, 45, "month", "2026-05", datetime(2026, 6, 1, tzinfo=UTC), KEY)
    parties = {"provider-a": ["order-1", "order-8"], "platform-b": ["order-4"], "empty": []}
    bundles = party_bundles(receipt, parties, KEY.public_key())
    for party, streams in parties.items():
        assert [p["stream_id"] for p in bundles[party]["proofs"]] == streams
        assert bundles[party] == party_bundle(receipt, streams, KEY.public_key())
        assert verify_bundle(bundles[party], KEY.public_key()) == []
