"""Settings (GET /api/config, POST /api/config/settings) and prompts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    computed_field,
    create_model,
    field_validator,
)
from pydantic.fields import FieldInfo

from services.api.schemas.common import Body
from shared.app_settings import AppSettings
from shared.prompts import MAX_PROMPT_CHARS


class UsageStats(BaseModel):
    memory_entries: int
    conversations: int
    messages: int
    exchange_count: int = Field(description="answered user turns")
    turns_last_24h: int


class ConfigView(BaseModel):
    """GET /api/config. The computed fields repeat ours under the names the old clients read
    (API.md: kept for old clients): `config` is `settings`, the counts are `stats`'s."""

    model: str
    settings: AppSettings
    stats: UsageStats

    @computed_field  # type: ignore[prop-decorator]
    @property
    def config(self) -> AppSettings:
        return self.settings

    @computed_field  # type: ignore[prop-decorator]
    @property
    def memory_entries(self) -> int:
        return self.stats.memory_entries

    @computed_field  # type: ignore[prop-decorator]
    @property
    def conversations(self) -> int:
        return self.stats.conversations

    @computed_field  # type: ignore[prop-decorator]
    @property
    def messages(self) -> int:
        return self.stats.messages

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exchange_count(self) -> int:
        return self.stats.exchange_count

    @computed_field  # type: ignore[prop-decorator]
    @property
    def turns_last_24h(self) -> int:
        return self.stats.turns_last_24h


def _optional(field: FieldInfo) -> tuple[Any, Any]:
    """The same type and bounds, absent by default (a patch names only what it changes)."""
    kind = field.annotation
    return (Annotated[kind, *field.metadata] if field.metadata else kind), None


_SettingsFields: type[BaseModel] = create_model(
    "_SettingsFields",
    __config__=ConfigDict(extra="forbid", strict=True),
    **{name: _optional(field) for name, field in AppSettings.model_fields.items()},  # type: ignore[call-overload]
)


class SettingsPatch(_SettingsFields):  # type: ignore[misc,valid-type]
    """POST /api/config/settings: any subset of the settings, each field typed and bounded as
    in AppSettings; the merged whole is checked again before anything is stored."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """PostgreSQL cannot store NUL: refused here, so the 422 names the setting."""
        if _holds_nul(value):
            raise ValueError("holds a character that cannot be stored (NUL, U+0000)")
        return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class SettingsSaved(BaseModel):
    ok: bool = True
    settings: AppSettings


class SettingsSchema(RootModel[dict[str, Any]]):
    """GET /api/config/schema: the JSON Schema (draft 2020-12) of the owner-editable settings,
    the object POST /api/config/settings takes a subset of."""


class PromptBody(Body):
    content: str = Field(max_length=MAX_PROMPT_CHARS)


class PromptView(BaseModel):
    name: str
    content: str
    updated_at: str | None = Field(description="ISO time of the save; null: AION's default")
    revision: int = Field(description="saves back from the newest (0: the one in use)")


class PromptSaved(BaseModel):
    ok: bool = True
    name: str
    bytes: int
