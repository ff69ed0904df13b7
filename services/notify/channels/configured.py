"""The channels the settings ask for, built once at start-up."""

from __future__ import annotations

from libs.events.settings import Settings
from services.notify.channels import Channel
from services.notify.channels.email import SmtpEmailChannel
from services.notify.channels.log import LogChannel
from services.notify.channels.sms import HttpSmsChannel

KNOWN = ("log", "sms", "email")
LOG_ONLY_KEY = b"notify-log-channel-only"  # nothing leaves the process, so nothing to protect


class ChannelSettingsError(ValueError):
    """A chosen channel lacks a setting it needs; the message names the setting."""


def channel_names(settings: Settings) -> list[str]:
    names = [n.strip() for n in settings.notify_channels.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ChannelSettingsError(f"NOTIFY_CHANNELS: unknown channel(s) {unknown}; known: {KNOWN}")
    return names


def channels_from(settings: Settings) -> dict[str, Channel]:
    """One adapter per chosen channel; a missing URL, host, sender or secret fails here."""
    built: dict[str, Channel] = {}
    for name in channel_names(settings):
        if name == "log":
            built[name] = LogChannel()
        elif name == "sms":
            url, token = settings.notify_sms_url, settings.notify_sms_token
            if not url or token is None:
                raise ChannelSettingsError(
                    "the sms channel needs NOTIFY_SMS_URL and NOTIFY_SMS_TOKEN")
            built[name] = HttpSmsChannel(url, token.get_secret_value())
        else:
            host, sender = settings.notify_smtp_host, settings.notify_smtp_sender
            if not host or not sender:
                raise ChannelSettingsError(
                    "the email channel needs NOTIFY_SMTP_HOST and NOTIFY_SMTP_SENDER")
            password = settings.notify_smtp_password
            built[name] = SmtpEmailChannel(
                host, settings.notify_smtp_port, sender, username=settings.notify_smtp_username,
                password=password.get_secret_value() if password else None,
                start_tls=settings.notify_smtp_starttls)
    return built


def recipient_key(settings: Settings) -> bytes:
    """The key of the customers' recipient refs (a keyed hash of the phone number). A log-only
    setup may run without one; a real channel may not, or the refs could be reversed by
    hashing every phone number."""
    if settings.notify_recipient_key is not None:
        return settings.notify_recipient_key.get_secret_value().encode()
    if set(channel_names(settings)) <= {"log"}:
        return LOG_ONLY_KEY
    raise ChannelSettingsError("NOTIFY_RECIPIENT_KEY is required with the sms or email channel")
