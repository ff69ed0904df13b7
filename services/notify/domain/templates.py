"""The text of each message: templates per maker, Chinese first, with a default set.

A maker's set may override any step; a step it leaves out falls back to the default. Templates
never name the customer or the phone number: the message goes to that phone, and the rendered
payload sits in the outbox and in logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.notify.domain.model import Step


@dataclass(frozen=True)
class Template:
    subject: str
    text: str


@dataclass(frozen=True)
class Rendered:
    template_id: str  # "<maker or default>/<step>", stored with the row for ops
    subject: str
    text: str


DEFAULT_SIGNATURE = "售后服务"
DEFAULT: dict[Step, Template] = {
    Step.REPORTED: Template(
        "报修已受理", "您的报修（单号{ref}）已受理，我们将尽快安排服务网点。"),
    Step.DISPATCHED: Template(
        "已派工", "您的报修（单号{ref}）已派工，工程师将于{window}上门。"),
    Step.ON_THE_WAY: Template(
        "工程师已出发", "工程师已出发前往您处（单号{ref}），预计{eta}到达，请保持电话畅通。"),
    Step.REPAIRED: Template(
        "维修完成", "您的报修（单号{ref}）已维修完成，感谢您的耐心等待。"),
    Step.SETTLED: Template(
        "服务费用", "您的报修（单号{ref}）已过保修期，本次服务费用{amount}。"),
    Step.FEEDBACK_REQUEST: Template(
        "服务评价", "请为本次服务（单号{ref}）评价：及时性、维修质量、服务态度。"),
}


@dataclass(frozen=True)
class MakerTemplates:
    """One maker's voice: the signature in 【】 and any steps it words its own way."""

    signature: str
    steps: Mapping[Step, Template]


MAKERS: dict[str, MakerTemplates] = {
    "gree": MakerTemplates("格力服务", {
        Step.DISPATCHED: Template(
            "已派工", "格力空调报修（单号{ref}）已派工，师傅将于{window}上门。"),
    }),
}


def render(step: Step, maker: str, variables: Mapping[str, Any],
           makers: Mapping[str, MakerTemplates] = MAKERS) -> Rendered:
    """The message for a step: the maker's template if it has one, else the default.

    A variable the template names but the trigger lacks raises KeyError: a message with a
    blank where the window should be is worse than a failing test.
    """
    own = makers.get(maker)
    template = own.steps.get(step) if own else None
    source = maker if template else "default"
    template = template or DEFAULT[step]
    signature = own.signature if own else DEFAULT_SIGNATURE
    text = f"【{signature}】" + template.text.format_map(dict(variables))
    if link := variables.get("link"):  # the status link, once issue 18 item 1 hands one out
        text += f" 查看进度：{link}"
    return Rendered(f"{source}/{step.value}", f"{signature}：{template.subject}", text)


def mask_phone(phone: str) -> str:
    """A phone number as logs may show it: 13800138000 -> 138****8000."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_address(channel: str, address: str) -> str:
    """Any recipient address, masked for logs and ops: phones as above, e-mail as z***@host."""
    if channel == "email" and "@" in address:
        local, host = address.split("@", 1)
        return f"{local[:1]}***@{host}"
    return mask_phone(address)


_PHONE = re.compile(r"\+?\d[\d -]{5,}\d")
_MAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(text: str) -> str:
    """Free text (a provider's error answer) with every phone-like number and e-mail address
    masked, so what is stored in last_error and logged never carries one in full."""
    text = _MAIL.sub(lambda m: mask_address("email", m.group()), text)
    return _PHONE.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group())), text)
