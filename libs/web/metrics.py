"""Prometheus metrics: one registry per process, named after what operators ask."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from libs.events.projection import BatchResult, Projector

registry = CollectorRegistry()
# What every Prometheus client exports by default (CPU, memory, open fds, start time, GC,
# the Python version): the same three collectors the default registry holds.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    registry.register(_collector)

http_requests = Counter(
    "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
)
http_latency = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=registry,
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
appends = Counter("event_appends_total", "Events appended", ["type"], registry=registry)
conflicts = Counter("event_append_conflicts_total", "Appends refused for a version conflict", registry=registry)
projection_lag_events = Gauge(
    "projection_lag_events", "Events in the store not yet in the projection", ["projection"], registry=registry
)
projection_lag_seconds = Gauge(
    "projection_lag_seconds", "Age of the oldest event not yet in the projection", ["projection"], registry=registry
)
dead_letters = Gauge("dead_letters", "Unresolved dead letters", ["projection"], registry=registry)
sla_breaches = Counter("sla_breaches_total", "Orders escalated for an SLA breach", registry=registry)
dead_lettered = Counter(
    "projection_dead_letters", "Events a projection could not apply and set aside (an alarm: its figures are incomplete)",
    ["projection"], registry=registry,
)


def count_dead_letters(projector: Projector) -> None:
    """Count every event `projector` dead-letters (whichever feed, sweep or rebuild handed it
    over: they all go through `handle`), without the event layer knowing about Prometheus."""
    handle = projector.handle
    counter = dead_lettered.labels(projector.name)

    async def counted(events: Any) -> BatchResult:
        result = await handle(events)
        if result.dead:
            counter.inc(result.dead)
        return result

    projector.handle = counted  # type: ignore[method-assign]


class Pipeline(Collector):
    """Relay and Kafka-feed figures, read from the running objects at scrape time, and only
    from a process that runs them (a relay-less API process exports no relay_lag_events 0).

    `relays` hold objects with `published`, `failures` and `lag` (events the relay has not
    published yet, set by the runtime's monitor); `feeds` hold KafkaFeeds (`applied`,
    `reconciled`, `lag` per partition, `group_id`, `topic`, `projector.name`).
    """

    def __init__(self) -> None:
        self.relays: list[Any] = []
        self.feeds: list[Any] = []

    def collect(self) -> Iterator[Metric]:
        if self.relays:
            lag = GaugeMetricFamily("relay_lag_events", "Events not yet published to Kafka")
            lag.add_metric([], sum(r.lag for r in self.relays))
            published = CounterMetricFamily("relay_published_events", "Events published (acked)")
            published.add_metric([], sum(r.published for r in self.relays))
            failed = CounterMetricFamily("relay_failures", "Relay passes that failed (then retried)")
            failed.add_metric([], sum(r.failures for r in self.relays))
            yield from (lag, published, failed)
        if self.feeds:
            applied = CounterMetricFamily(
                "projection_events_applied", "Events applied to a read model, by path: feed (Kafka) "
                "or sweep (the reconcile sweep over the store: what the broker did not deliver)",
                labels=["projection", "path"])
            lag = GaugeMetricFamily("kafka_consumer_lag", "Messages behind the partition's high watermark",
                                    labels=["group", "topic", "partition"])
            for feed in self.feeds:
                applied.add_metric([feed.projector.name, "feed"], feed.applied)
                applied.add_metric([feed.projector.name, "sweep"], feed.reconciled)
                for partition, behind in sorted(feed.lag.items()):
                    lag.add_metric([feed.group_id, feed.topic, str(partition)], behind)
            yield from (applied, lag)


pipeline = Pipeline()
registry.register(pipeline)
