"""The pure sealing: round trip, and every kind of misplaced or altered ciphertext refused."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.events.personal import crypto
from libs.events.personal.errors import BadEnvelope, TamperedCiphertext

FIELDS = {"name": "张伟", "phone": "13800138000", "address": "湖北省武汉市洪山区珞喻路1号",
          "contact": None}


def _key() -> AESGCM:
    return AESGCM(crypto.new_key())


def test_round_trip_and_the_envelope_is_json_safe_ciphertext_only() -> None:
    key = _key()
    env = crypto.seal_with(key, "ds_a", 1, FIELDS)
    text = json.dumps(env, ensure_ascii=True)
    for value in ("张伟", "13800138000", "洪山区", "\\u"):
        assert value not in text
    assert env["f"]["contact"] is None
    assert crypto.open_with(key, json.loads(text)) == FIELDS


def test_each_seal_uses_a_fresh_nonce() -> None:
    key = _key()
    one, two = (crypto.seal_with(key, "ds_a", 1, FIELDS) for _ in range(2))
    assert one["f"]["phone"] != two["f"]["phone"]


def test_a_flipped_bit_is_refused() -> None:
    key = _key()
    env = crypto.seal_with(key, "ds_a", 1, FIELDS)
    raw = bytearray(crypto.b64d(env["f"]["phone"]))
    raw[-1] ^= 1
    env["f"]["phone"] = crypto.b64e(bytes(raw))
    with pytest.raises(TamperedCiphertext, match="phone"):
        crypto.open_with(key, env)


def test_associated_data_binds_subject_version_and_field() -> None:
    key = _key()
    env = crypto.seal_with(key, "ds_a", 1, FIELDS)
    for changed in ({**env, "s": "ds_b"}, {**env, "k": 2},
                    {**env, "f": {**env["f"], "name": env["f"]["phone"]}}):
        with pytest.raises(TamperedCiphertext):
            crypto.open_with(key, changed)


def test_another_key_is_refused() -> None:
    env = crypto.seal_with(_key(), "ds_a", 1, FIELDS)
    with pytest.raises(TamperedCiphertext):
        crypto.open_with(_key(), env)


@pytest.mark.parametrize("bad", [
    None, {"pd": 2, "s": "ds_a", "k": 1, "f": {}}, {"pd": 1, "k": 1, "f": {}},
    {"pd": 1, "s": "ds_a", "k": 0, "f": {}}, {"pd": 1, "s": "ds_a", "k": True, "f": {}},
    {"pd": 1, "s": "ds_a", "k": 1, "f": {"name": 5}}, {"pd": 1, "s": "ds_a", "k": 1, "f": []},
])
def test_malformed_envelopes_name_what_is_wrong(bad: object) -> None:
    with pytest.raises(BadEnvelope):
        crypto.parse_envelope(bad)


def test_a_truncated_field_is_tampering_not_a_crash() -> None:
    key = _key()
    env = crypto.seal_with(key, "ds_a", 1, FIELDS)
    env["f"]["name"] = "AAAA"
    with pytest.raises(TamperedCiphertext, match="too short"):
        crypto.open_with(key, env)
    env["f"]["name"] = "***"
    with pytest.raises(BadEnvelope):
        crypto.open_with(key, env)


def test_wrapped_keys_open_only_with_their_master_subject_and_version() -> None:
    master, data_key = _key(), crypto.new_key()
    wrapped = crypto.wrap_key(master, "ds_a", 1, data_key)
    assert crypto.unwrap_key(master, "ds_a", 1, wrapped) == data_key
    for args in ((_key(), "ds_a", 1), (master, "ds_b", 1), (master, "ds_a", 2)):
        with pytest.raises(TamperedCiphertext):
            crypto.unwrap_key(*args, wrapped)
