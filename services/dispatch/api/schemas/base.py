"""Shared bits of the dispatch API schemas: strict bodies, names and free text without
control, bidi-override or zero-width characters (libs/web/text.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from libs.web.text import FreeText, PlainText

Name = Annotated[PlainText, Field(min_length=1, max_length=100)]
Note = Annotated[FreeText, Field(max_length=500)]
Text2000 = Annotated[FreeText, Field(max_length=2000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
