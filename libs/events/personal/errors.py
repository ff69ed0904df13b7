"""Errors of the personal-data kernel (all under libs.events.errors.EventStoreError)."""

from __future__ import annotations

from libs.events.errors import EventStoreError


class PersonalDataError(EventStoreError):
    """Base of the errors below."""


class TamperedCiphertext(PersonalDataError):
    """A sealed field failed authentication: altered bytes, or moved to another subject,
    key version or field (all three are associated data). Never shown as erased: erasure
    is a state of the key table, tampering is an integrity failure."""


class MissingKey(PersonalDataError):
    """An envelope names a key the key table never held (wrong database, lost table)."""


class BadEnvelope(PersonalDataError):
    """The value is not a sealed envelope of a version this reader knows."""


class PersonalConfigError(PersonalDataError):
    """Secrets for personal data are missing or malformed (start-up refuses)."""


class PlaintextStore(PersonalDataError):
    """The store holds personal fields in clear text (written before encryption)."""
