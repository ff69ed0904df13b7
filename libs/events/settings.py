"""Settings, built once at start-up; nothing else reads the environment."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

# Secrets committed to this repository (or printed in its README): a process that is not the
# embedded demo refuses to start with any of them (`Settings.check_secrets`).
KNOWN_SECRETS = frozenset({
    "demo-platform-secret", "change-me", "change-me-platform-secret", "aftersales", "secret", "",
    "<password>", "<random>",  # the placeholders of deploy/k8s/secrets/*.env.example
})


class Settings(BaseSettings):
    """One settings object for every process; each field says which mode uses it.

    Embedded default: no DATABASE_URL / KAFKA_BOOTSTRAP → SQLite under ./data, projections
    tail the store, everything in one process. Distributed: DATABASE_URL=postgresql://...,
    KAFKA_BOOTSTRAP=host:9092, SERVICES=intake (one service per process), ROLE=api|relay|projector.
    """

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = "sqlite:///./data/aftersales.db"
    kafka_bootstrap: str | None = None
    topic: str = "service-orders.v1"
    topic_partitions: int = 6
    host: str = "127.0.0.1"
    port: int = 8000
    services: str = "intake,dispatch,settlement,quality,notify,parts"
    role: str = "api"  # api | relay | projector | all | gateway (dashboard + routing to UPSTREAMS)
    run_projections: bool = True  # in distributed mode projectors may run as their own processes
    run_relay: bool = True
    demo: bool = False  # make run / make demo: create the demo keys of the README (removed when off)
    platform_secret: SecretStr = SecretStr("demo-platform-secret")
    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    log_json: bool = True
    sla_watch_interval: float = 15.0
    reconcile_grace: float = 30.0
    # projectors: a stable name per replica for Kafka static group membership (KIP-345): a
    # replica restarted after a crash takes its partitions back at once, not after the
    # broker expired the dead member's session (noida-db never does)
    kafka_instance_id: str | None = None
    read_your_writes_wait: float = 2.0  # queries with min_position: seconds to wait, then 503
    reconcile_interval: float = 10.0  # projectors: seconds between reconcile sweeps (0: no sweep)
    relay_broker_timeout: float = 30.0  # relay: seconds a connect/publish may take before it starts over
    platform_id: str = "gov-platform"  # intake: the complaint platform that signs with platform_secret
    # intake: HMAC key of the ids of keyed orders (an Idempotency-Key, a platform reference), so
    # they are stable for retries and not predictable from public data; none outside the demo
    intake_id_key: SecretStr | None = None
    intake_warranty_policies: str = ""  # intake: JSON per-maker warranty (三包) policies; empty = built-in
    # settlement: JSON {maker: "wait" | "reduce"}: a returnable part's cost waits for the faulty part's
    # return, or is withheld without it (services/settlement/domain/returns.py); empty: every maker waits
    settlement_return_policies: str = ""
    intake_webhook_interval: float = 2.0  # intake: seconds between partner-webhook delivery passes
    # notify: customer notifications (services/notify). Channels: comma list of log, sms, email;
    # sms and email need their URL/host and secrets, which have no working defaults.
    notify_channels: str = "log"
    notify_sms_url: str | None = None  # the provider's JSON endpoint (POST)
    notify_sms_token: SecretStr | None = None  # sent as Authorization: Bearer
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 587
    notify_smtp_sender: str | None = None  # the From address
    notify_smtp_username: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_smtp_starttls: bool = True
    notify_policies: str = ""  # JSON per-maker quiet hours; empty = 21:00-08:00 China time for all
    notify_recipient_key: SecretStr | None = None  # keys customers' refs; optional if log only
    notify_link_secret: SecretStr | None = None  # signs the customers' status links; demo: built in
    notify_link_ttl_days: int = 60  # a status link expires this long after the report
    notify_public_url: str = "http://127.0.0.1:8000"  # where customers open the status links
    notify_interval: float = 2.0  # notify: longest sleep of the dispatcher between outbox passes

    # quality: HMAC key of the weekly call-back draw (unset: only the demo draws, with its own)
    quality_sample_key: SecretStr | None = None
    receipt_signing_key: SecretStr | None = None  # receipts: Ed25519 private key, PEM text
    receipt_signing_key_file: str = ""  # receipts: or its path (demo, neither set: ./data)

    key_watch_interval: float = 1.0  # API: seconds between checks for key changes made by other processes
    rate_limit: str = "50/second;1500/minute"  # per API key, unless its principal sets its own

    # personal data (libs/events/personal): the HMAC secret of pseudonymous subject ids
    # (required unless the embedded demo), an optional master key wrapping the data keys
    # (32 bytes base64url), and per-maker retention in years as JSON, e.g. {"gree": 3}.
    personal_subject_secret: SecretStr | None = None
    personal_master_key: SecretStr | None = None
    personal_retention_years: str = ""

    upstreams: str = ""  # gateway only: "intake=http://host:8101,dispatch=http://host:8102,..."

    @property
    def upstream_urls(self) -> dict[str, str]:
        pairs = (item.split("=", 1) for item in self.upstreams.split(",") if "=" in item)
        return {name.strip(): url.strip().rstrip("/") for name, url in pairs}

    @property
    def service_names(self) -> list[str]:
        return [s.strip() for s in self.services.split(",") if s.strip()]

    @property
    def distributed(self) -> bool:
        return self.kafka_bootstrap is not None

    def check_secrets(self, running: Sequence[str] | None = None) -> None:
        """Refuse to start a non-demo process with a default or published secret.

        Called at start-up (`python -m app`, and every Runtime.start); the embedded demo (DEMO=true,
        `make run` / `make demo`) may run on them, nothing else may.
        """
        if self.demo:
            return
        problems = []
        services = self.service_names if running is None else running  # what the process really serves
        verifies_platforms = "intake" in services and self.role in ("api", "all")
        if verifies_platforms and self.platform_secret.get_secret_value().strip() in KNOWN_SECRETS:
            problems.append("PLATFORM_SECRET is unset or a published default (demo-platform-secret, change-me...)")
        link = self.notify_link_secret  # unset: no status links at all (only the demo signs)
        if link is not None and link.get_secret_value().strip() in KNOWN_SECRETS:
            problems.append("NOTIFY_LINK_SECRET is a published default")
        sample = self.quality_sample_key  # unset: no call-back list (only the demo draws)
        if sample is not None and sample.get_secret_value().strip() in KNOWN_SECRETS:
            problems.append("QUALITY_SAMPLE_KEY is a published default")
        id_key = self.intake_id_key.get_secret_value().strip() if self.intake_id_key else ""
        if verifies_platforms and id_key in KNOWN_SECRETS:
            problems.append("INTAKE_ID_KEY is unset or a published default")
        password = _password(self.database_url)
        if password is not None and password in KNOWN_SECRETS:
            problems.append("the DATABASE_URL password is a published default (change-me, aftersales)")
        if problems:
            raise SystemExit("refusing to start without DEMO=true: " + "; ".join(problems)
                             + ". Set real secrets from your secret store, or DEMO=true for a local demo.")


def _password(url: str) -> str | None:
    """The password in a database URL, if it has one."""
    try:
        return make_url(url).password
    except Exception:  # a URL the engine will reject with its own message
        return None
