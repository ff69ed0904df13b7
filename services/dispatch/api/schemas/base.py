"""Shared bits of the dispatch API schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Name = Field(min_length=1, max_length=100)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
