"""Subject ids: stable per maker and number, unlinkable without the secret; the config."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from libs.events.personal import crypto
from libs.events.personal.errors import PersonalConfigError
from libs.events.personal.subjects import is_subject_id, normalise_phone, subject_id
from libs.events.personal.vault import DEMO_SUBJECT_SECRET, PersonalConfig
from libs.events.settings import Settings


@pytest.mark.parametrize("phone", ["13800138000", "+86 138-0013-8000", "008613800138000",
                                   "86 13800138000", "(138) 0013 8000"])
def test_one_customer_one_subject_however_the_number_is_written(phone: str) -> None:
    assert normalise_phone(phone) == "13800138000"
    assert subject_id(b"k", "gree", phone) == subject_id(b"k", "gree", "13800138000")


def test_landlines_keep_their_digits() -> None:
    assert normalise_phone("027-8765 4321") == "02787654321"
    assert normalise_phone("8612345") == "8612345"  # too short to be +86 and a mobile


def test_per_maker_and_per_secret() -> None:
    base = subject_id(b"k", "gree", "13800138000")
    assert is_subject_id(base)
    assert base != subject_id(b"k", "midea", "13800138000")
    assert base != subject_id(b"other", "gree", "13800138000")
    assert base != subject_id(b"k", "gree", "13800138001")


def test_no_subject_without_digits_or_secret() -> None:
    with pytest.raises(ValueError, match="digits"):
        subject_id(b"k", "gree", "n/a")
    with pytest.raises(ValueError, match="secret"):
        subject_id(b"", "gree", "13800138000")


def _settings(**given: object) -> Settings:
    """Settings as the embedded demo has them unless given (whatever the test's environment)."""
    base: dict[str, object] = {"demo": True, "kafka_bootstrap": None,
                               "personal_subject_secret": None, "personal_master_key": None}
    return Settings(**{**base, **given})  # type: ignore[arg-type]


def test_the_demo_default_is_only_for_the_embedded_demo() -> None:
    assert PersonalConfig.from_settings(_settings()).subject_secret == DEMO_SUBJECT_SECRET
    for settings in (_settings(demo=False), _settings(kafka_bootstrap="k:9092")):
        with pytest.raises(PersonalConfigError, match="PERSONAL_SUBJECT_SECRET"):
            PersonalConfig.from_settings(settings)
    given = _settings(demo=False, personal_subject_secret=SecretStr("s3cret"))
    assert PersonalConfig.from_settings(given).subject_secret == b"s3cret"


def test_master_key_must_be_32_bytes_base64url() -> None:
    key = crypto.new_key()
    settings = _settings(personal_master_key=SecretStr(crypto.b64e(key)))
    assert PersonalConfig.from_settings(settings).master_key == key
    for bad in ("short", crypto.b64e(key[:16]), "not base64!!"):
        with pytest.raises(PersonalConfigError, match="PERSONAL_MASTER_KEY"):
            PersonalConfig.from_settings(_settings(personal_master_key=SecretStr(bad)))
