"""Stores written before encryption: find clear-text personal fields, refuse to start.

A store holding `order.reported` events whose customer is not a sealed envelope cannot
be erased (the clear text is under the hash chain). Start-up refuses it with a message
naming the conversion (docs/personal-data.md describes it and how the chain is re-anchored).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from libs.events.personal import crypto
from libs.events.personal.errors import PlaintextStore
from libs.events.store.port import EventStore

PERSONAL_EVENTS = {"order.reported": "customer"}  # type -> the field that holds personal data
CONVERT_COMMAND = "python -m libs.events personal-convert"
PAGE = 1000


@dataclass
class PlaintextReport:
    """What a scan found: how many events carry clear text, a few of their streams."""

    events: int = 0
    streams: list[str] = field(default_factory=list)
    scanned_to: int = 0  # the last position looked at

    @property
    def clean(self) -> bool:
        return self.events == 0


def is_plaintext(event_type: str, data: dict[str, object]) -> bool:
    where = PERSONAL_EVENTS.get(event_type)
    return where is not None and data.get(where) is not None and not crypto.is_envelope(data[where])


async def detect_plaintext(store: EventStore, *, after_position: int = 0, sample: int = 5,
                           stop_at_first: bool = False) -> PlaintextReport:
    """Scan the log from `after_position` for personal events with clear-text fields."""
    report = PlaintextReport(scanned_to=after_position)
    while batch := await store.read_all(report.scanned_to, PAGE):
        for event in batch:
            if is_plaintext(event.type, event.data):
                report.events += 1
                if len(report.streams) < sample and event.stream_id not in report.streams:
                    report.streams.append(event.stream_id)
                if stop_at_first:
                    report.scanned_to = event.position
                    return report
        report.scanned_to = batch[-1].position
    return report


def refusal_message(report: PlaintextReport) -> str:
    """The start-up refusal: what was found (never the data), what to run, where to read."""
    streams = ", ".join(report.streams)
    return (
        f"refusing to start: the event store holds {report.events} order.reported event(s) "
        f"with customers' personal data in clear text (e.g. stream(s) {streams}), written "
        "before personal data was encrypted; they could never be erased. Convert the store "
        f"with `{CONVERT_COMMAND}` (resumable: it continues where it stopped), then start "
        "again; docs/personal-data.md explains the conversion and how the hash chains are "
        "re-anchored."
    )


async def ensure_no_plaintext(store: EventStore) -> None:
    """Start-up check: PlaintextStore with the refusal message if any clear text is found."""
    report = await detect_plaintext(store)
    if not report.clean:
        raise PlaintextStore(refusal_message(report))
