"""Provider keys: listed masked, saved some at once, deleted one by one."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, RootModel


class KeysUpdate(RootModel[dict[str, str]]):
    """{"OPENAI_API_KEY": "sk-...", ...}: names ^[A-Z][A-Z0-9_]{2,63}$ ending _KEY, _TOKEN,
    _SECRET or _ID. Names and values are checked together (services/api/keys.py), so one 422
    names every bad one."""

    model_config = ConfigDict(
        json_schema_extra={
            "minProperties": 1,
            "propertyNames": {"pattern": "^[A-Z][A-Z0-9_]{2,63}$"},
        }
    )


class KeyEntry(BaseModel):
    key: str
    set: bool
    source: Literal["vault", "env", "unset"]
    masked: str


class KeyGroup(BaseModel):
    label: str
    env_keys: list[KeyEntry]


class KeysResponse(BaseModel):
    providers: list[KeyGroup]
    other_keys: list[KeyEntry]


class KeysSaved(BaseModel):
    ok: bool = True
    updated: list[str]


class KeyDeleted(BaseModel):
    ok: bool = True
    deleted: str
