"""Control, bidi-override and zero-width characters are refused in names and free text (libs/web/text.py)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from libs.web.text import FreeText, PlainText, check_text


class Repair(BaseModel):
    name: PlainText
    diagnosis: FreeText


@pytest.mark.parametrize("bad", [
    "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\x9f", "\u202e", "\u202a", "\u2066", "\u2069",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\r",
])
def test_harmful_characters_are_refused_everywhere(bad: str) -> None:
    for field in ("name", "diagnosis"):
        with pytest.raises(ValidationError) as caught:
            Repair.model_validate({"name": "ok", "diagnosis": "ok", field: f"张{bad}伟"})
        error = caught.value.errors()[0]
        assert error["loc"] == (field,) and f"U+{ord(bad[0]):04X} at position 1" in error["msg"]


def test_free_text_keeps_newlines_and_tabs_a_name_does_not() -> None:
    assert Repair(name="李师傅", diagnosis="压缩机不启动\n\t更换电容").diagnosis.count("\n") == 1
    for whitespace in ("\n", "\t"):
        with pytest.raises(ValidationError):
            Repair(name=f"李{whitespace}师傅", diagnosis="ok")


def test_ordinary_text_of_any_script_passes() -> None:
    for text in ("张伟", "Zoë O'Brien-Smith", "Ελένη", "محمد", "👩‍🔧"[:1], "KFR-35GW/BpR3"):
        assert check_text(text) == text


async def test_a_refused_character_is_a_422_naming_the_field(tmp_path: object) -> None:
    import httpx

    from libs.events.settings import Settings
    from libs.web.app import build_app
    from libs.web.runtime import ServiceSpec

    router = APIRouter()

    @router.post("/repairs")
    async def repair(body: Repair) -> dict[str, str]:
        return {"name": body.name}

    app = build_app(Settings(database_url="sqlite://"), [ServiceSpec(name="t", router=router)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.post("/repairs", json={"name": "evil\u202etxt.exe", "diagnosis": "x"})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "name"
