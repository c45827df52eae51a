"""Plugins as GET /api/plugins shows them, and the answers of the changes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from services.api.schemas.common import Body


class PluginName(Body):
    name: str = Field(min_length=1, max_length=64)


class PluginTool(BaseModel):
    name: str
    description: str
    risk: Literal["safe", "ask"]
    loaded: bool = Field(description="the model is offered it (its plugin is enabled and loaded)")


class PluginView(BaseModel):
    name: str
    version: str
    description: str
    enabled: bool
    loaded: bool
    error: str | None
    tools: list[PluginTool]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def disabled(self) -> bool:
        """`not enabled`, as the old clients read it (API.md: kept for old clients)."""
        return not self.enabled


class PluginsResponse(BaseModel):
    plugins: list[PluginView]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_loaded(self) -> int:
        """How many tools are loaded, as the old clients count them."""
        return sum(tool.loaded for plugin in self.plugins for tool in plugin.tools)


class PluginsReloaded(BaseModel):
    ok: bool = True
    tools: list[str]
    count: int
    unconfirmed: list[str] = Field(description="live workers that did not confirm in time")


class PluginEnabled(BaseModel):
    ok: bool = True
    enabled: str
    unconfirmed: list[str]


class PluginDisabled(BaseModel):
    ok: bool = True
    disabled: str
    unconfirmed: list[str]
