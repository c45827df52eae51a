"""Control broadcasts: one Redis pub/sub channel that every replica listens to.

A change a worker must have applied before the api answers (settings, secrets, plugins) carries
a `request_id`; each worker acknowledges it under ack_key(request_id) once it has, so the api
can wait for every live worker instead of a client guessing how long pub/sub takes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

CONTROL_CHANNEL = "aion:control"
ACK_TTL_SECONDS = 60


def ack_key(request_id: str) -> str:
    """A hash: worker id → what that worker reports with its acknowledgement."""
    return f"aion:control:ack:{request_id}"


class _Control(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CancelTurn(_Control):
    kind: Literal["cancel_turn"] = "cancel_turn"
    turn_id: str


class PluginsChanged(_Control):
    """Re-read which plugins are on (and re-import plugin code when `reload`); every worker
    acknowledges `request_id` with the tools it now offers (see shared/plugin_catalog.py)."""

    kind: Literal["plugins_changed"] = "plugins_changed"
    request_id: str | None = None
    reload: bool = False


class McpChanged(_Control):
    """The owner's MCP servers changed: every worker re-reads them, connects the new and changed
    ones at once when `request_id` is set, and acknowledges it with their statuses."""

    kind: Literal["mcp_changed"] = "mcp_changed"
    request_id: str | None = None


class SettingsChanged(_Control):
    kind: Literal["settings_changed"] = "settings_changed"
    request_id: str | None = None


class SecretsChanged(_Control):
    kind: Literal["secrets_changed"] = "secrets_changed"
    request_id: str | None = None


class TelegramChanged(_Control):
    """The bot token or the allowed users changed (shared/telegram.py)."""

    kind: Literal["telegram_changed"] = "telegram_changed"


ControlMessage = Annotated[
    CancelTurn | PluginsChanged | McpChanged | SettingsChanged | SecretsChanged | TelegramChanged,
    Field(discriminator="kind"),
]

_adapter: TypeAdapter[ControlMessage] = TypeAdapter(ControlMessage)


def encode_control(message: _Control) -> str:
    return message.model_dump_json()


def decode_control(data: str | bytes) -> ControlMessage:
    return _adapter.validate_json(data)
