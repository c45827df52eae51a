"""What workers report about their plugins, for the api (which does not load plugin code).

Each worker writes the catalog to Redis after loading or refreshing its plugins, and
acknowledges a `plugins_changed` request under its id, so the api can answer once every live
worker has applied a change.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

CATALOG_KEY = "aion:plugins:catalog"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolInfo(_Model):
    name: str
    description: str
    risk: Literal["safe", "ask"]


class PluginInfo(_Model):
    name: str
    version: str
    description: str
    enabled: bool
    loaded: bool
    error: str | None
    tools: list[ToolInfo]


class Catalog(_Model):
    worker_id: str
    plugins: list[PluginInfo]
