"""Seal/open/erase against the key table, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.clock import ManualClock
from libs.events.personal import crypto
from libs.events.personal.errors import MissingKey, TamperedCiphertext
from libs.events.personal.keys import KeyCache, KeyTable
from libs.events.personal.masking import ERASED
from libs.events.personal.tables import subject_erasures, subject_keys
from libs.events.personal.vault import Vault
from tests.personal.support import CUSTOMER, PHONE, SECRET, T0, reported, sealed_store, vault


async def test_round_trip(engine: AsyncEngine) -> None:
    v = vault(engine)
    subject = v.subject("gree", PHONE)
    env = await v.seal(CUSTOMER, subject)
    assert env["s"] == subject and env["k"] == 1
    opened = await v.open(env)
    assert opened.fields == CUSTOMER and not opened.erased and opened["name"] == "张伟"
    fresh = vault(engine)  # another process: no cache, the key from the table
    assert (await fresh.open(env)).fields == CUSTOMER


async def test_tampered_and_misplaced_ciphertext_is_refused(engine: AsyncEngine) -> None:
    v = vault(engine)
    a, b = v.subject("gree", "13800138000"), v.subject("gree", "13900139000")
    env_a, env_b = await v.seal(CUSTOMER, a), await v.seal({"name": "李四"}, b)
    moved = {**env_b, "f": {"name": env_a["f"]["name"]}}  # A's name in B's envelope
    with pytest.raises(TamperedCiphertext):
        await v.open(moved)
    raw = bytearray(crypto.b64d(env_a["f"]["address"]))
    raw[20] ^= 0x40
    with pytest.raises(TamperedCiphertext, match="address"):
        await v.open({**env_a, "f": {**env_a["f"], "address": crypto.b64e(bytes(raw))}})


async def test_erasure_shows_erased_and_leaves_events_and_chain_alone(engine: AsyncEngine) -> None:
    clock = ManualClock(T0)
    v = vault(engine, clock)
    store = sealed_store(engine)
    subject = v.subject("gree", PHONE)
    for n in range(3):
        await store.append(f"order-{n}", [reported(await v.seal(CUSTOMER, subject), n)], 0)
    before = await store.read_all()
    assert [(await v.open(e.data["customer"])).fields for e in before] == [CUSTOMER] * 3

    clock.advance(days=1)
    record = await v.erase(subject, "privacy:dpo-gree", "customer asked (PIPL art. 47)")
    assert record.keys_destroyed == 1 and record.erased_at == clock()

    after = await store.read_all()
    assert [e.model_dump() for e in after] == [e.model_dump() for e in before]
    for e in after:
        assert await store.verify(e.stream_id) == []
    for reader in (v, vault(engine)):  # the live vault and a rebuild's fresh one agree
        for e in after:
            opened = await reader.open(e.data["customer"])
            assert opened.erased
            assert opened.fields == {"name": ERASED, "phone": ERASED, "address": ERASED,
                                     "contact": None}
    async with engine.connect() as conn:
        keys = (await conn.execute(select(subject_keys))).mappings().all()
        erasures = (await conn.execute(select(subject_erasures))).mappings().all()
    assert [(k["key"], k["erased_at"]) for k in keys] == [(None, clock())]
    assert [(r["subject_id"], r["actor"], r["reason"]) for r in erasures] == [
        (subject, "privacy:dpo-gree", "customer asked (PIPL art. 47)")]
    assert await v.keys.is_erased(subject)


async def test_after_erasure_new_data_gets_a_new_key_and_old_stays_erased(
        engine: AsyncEngine) -> None:
    v = vault(engine)
    subject = v.subject("gree", PHONE)
    old = await v.seal(CUSTOMER, subject)
    await v.erase(subject, "privacy:dpo", "asked")
    new = await v.seal(CUSTOMER, subject)
    assert new["k"] == 2
    assert (await v.open(old)).erased
    assert (await v.open(new)).fields == CUSTOMER
    assert not await v.keys.is_erased(subject)
    again = await v.erase(subject, "privacy:dpo", "asked again")
    assert again.keys_destroyed == 1
    assert (await v.open(new)).erased


async def test_erasure_needs_actor_and_reason(engine: AsyncEngine) -> None:
    v = vault(engine)
    for actor, reason in (("", "why"), ("who", " ")):
        with pytest.raises(ValueError, match="actor and its reason"):
            await v.erase("ds_x", actor, reason)
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(subject_erasures))).scalar() == 0


async def test_concurrent_first_use_creates_one_key(engine: AsyncEngine) -> None:
    writers = [vault(engine) for _ in range(6)]  # separate caches, like separate processes
    subject = writers[0].subject("gree", PHONE)
    envelopes = await asyncio.gather(*(w.seal(CUSTOMER, subject) for w in writers))
    async with engine.connect() as conn:
        rows = (await conn.execute(select(subject_keys.c.version, subject_keys.c.key)
                                   .where(subject_keys.c.subject_id == subject))).all()
    assert len(rows) == 1 and rows[0].version == 1
    reader = vault(engine)
    for env in envelopes:  # every writer sealed with the one key that was committed
        assert (await reader.open(env)).fields == CUSTOMER


async def test_an_unknown_key_is_an_error_not_erasure(engine: AsyncEngine) -> None:
    v = vault(engine)
    env = await v.seal(CUSTOMER, v.subject("gree", PHONE))
    with pytest.raises(MissingKey):
        await v.open({**env, "k": 7})
    with pytest.raises(MissingKey):
        await v.open({**env, "s": "ds_" + "0" * 32})


async def test_wrapped_keys_are_stored_encrypted_by_the_master(engine: AsyncEngine) -> None:
    master = crypto.new_key()
    v = vault(engine, master=master)
    subject = v.subject("gree", PHONE)
    env = await v.seal(CUSTOMER, subject)
    async with engine.connect() as conn:
        row = (await conn.execute(select(subject_keys))).mappings().one()
    assert row["wrapped"] is True
    with pytest.raises(TamperedCiphertext):  # the stored value is not the data key itself
        crypto.open_with(AESGCM(crypto.b64d(row["key"])[:32]), env)
    assert (await vault(engine, master=master).open(env)).fields == CUSTOMER
    with pytest.raises(MissingKey, match="master key"):
        await vault(engine).open(env)
    with pytest.raises(TamperedCiphertext):
        await vault(engine, master=crypto.new_key()).open(env)


async def test_cache_serves_repeat_opens_and_forgets_on_erasure(engine: AsyncEngine) -> None:
    cache = KeyCache(size=2)
    v = vault(engine, cache=cache)
    subjects = [v.subject("gree", f"1380013800{i}") for i in range(3)]
    envs = [await v.seal(CUSTOMER, s) for s in subjects]
    assert len(cache) == 2  # bounded: the first subject's key was evicted
    hits = cache.hits
    await v.open(envs[2])
    assert cache.hits == hits + 1
    await v.open(envs[0])  # evicted: read from the table again
    assert cache.misses >= 1
    await v.erase(subjects[0], "privacy:dpo", "asked")
    assert (await v.open(envs[0])).erased


async def test_another_processes_erasure_reaches_this_cache_within_its_ttl(
        engine: AsyncEngine) -> None:
    now = [0.0]
    cache = KeyCache(ttl=60.0, monotonic=lambda: now[0])
    projector = Vault(KeyTable(engine, ManualClock(T0), cache=cache), SECRET)
    officer = vault(engine)
    subject = officer.subject("gree", PHONE)
    env = await officer.seal(CUSTOMER, subject)
    assert not (await projector.open(env)).erased
    await officer.erase(subject, "privacy:dpo", "asked")
    now[0] = 30.0
    assert not (await projector.open(env)).erased  # still within the TTL (documented)
    now[0] = 61.0
    assert (await projector.open(env)).erased
    now[0] = 10_000.0
    assert (await projector.open(env)).erased  # an erased key is cached for good


async def test_prefetch_loads_a_page_of_keys_in_one_go(engine: AsyncEngine) -> None:
    writer = vault(engine)
    subjects = [writer.subject("gree", f"1390013900{i}") for i in range(5)]
    envs = [await writer.seal(CUSTOMER, s) for s in subjects]
    await writer.erase(subjects[0], "privacy:dpo", "asked")
    cache = KeyCache()
    projector = Vault(KeyTable(engine, ManualClock(T0), cache=cache), SECRET)
    await projector.prefetch([*envs, {"not": "an envelope"}, None])
    assert len(cache) == 5
    misses = cache.misses
    opened = [await projector.open(e) for e in envs]
    assert cache.misses == misses  # every open served from the cache
    assert [o.erased for o in opened] == [True, False, False, False, False]
    assert opened[1].fields == CUSTOMER
