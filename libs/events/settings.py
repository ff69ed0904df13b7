"""Settings, built once at start-up; nothing else reads the environment."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    services: str = "intake,dispatch,settlement,quality"
    role: str = "api"  # api | relay | projector | all | gateway (dashboard + routing to UPSTREAMS)
    run_projections: bool = True  # in distributed mode projectors may run as their own processes
    run_relay: bool = True
    demo: bool = True  # create the demo partner/platform/staff keys shown in the README
    platform_secret: SecretStr = SecretStr("demo-platform-secret")
    max_body_bytes: int = 64 * 1024
    log_level: str = "INFO"
    log_json: bool = True
    sla_watch_interval: float = 15.0
    reconcile_grace: float = 30.0
    relay_broker_timeout: float = 30.0  # relay: seconds a connect/publish may take before it starts over
    platform_id: str = "gov-platform"  # intake: the complaint platform that signs with platform_secret
    intake_warranty_policies: str = ""  # intake: JSON per-maker warranty (三包) policies; empty = built-in
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
