"""Finds, imports and lists plugins: the built-in ones in the image and the owner's own.

A plugin is a folder with a `plugin.json` manifest (name, version, description, dependencies,
enabled_by_default) and an `__init__.py` defining `register(registry)`. Built-ins live in
services/worker/plugins/, user plugins in AION_PLUGINS_DIR. A plugin that fails to load (bad
manifest, import error, missing dependency, clashing tool name) is listed with its error; the
others load. `dependencies` names Python distributions that must be installed (a version
specifier after the name is shown, not checked).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from services.worker.settings import WorkerSettings
from services.worker.tools.registry import Tool, ToolRegistry
from shared.plugin_catalog import PluginInfo, ToolInfo

log = logging.getLogger("aion.worker.plugins")

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "plugins"
BUILTIN_PACKAGE = "services.worker.plugins"
USER_PACKAGE = "aion_user_plugins"
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    version: str = Field(min_length=1, max_length=64)
    description: str = ""
    dependencies: list[str] = Field(default_factory=list)
    enabled_by_default: bool = True


@dataclass
class LoadedPlugin:
    name: str
    manifest: Manifest | None
    tools: list[Tool] = field(default_factory=list)
    error: str | None = None
    imported: bool = True  # False: an owner's plugin left unimported while it is disabled


class PluginManager:
    """This worker's plugins and which of them the owner has on."""

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        builtin_dir: Path = BUILTIN_DIR,
        user_dir: Path | None = None,
    ) -> None:
        self._settings = settings
        self._builtin_dir = builtin_dir
        self._user_dir = user_dir
        self._plugins: dict[str, LoadedPlugin] = {}
        self._states: dict[str, bool] = {}
        self._tools: dict[str, Tool] = {}

    def load_all(self) -> None:
        """(Re)import the built-ins and the enabled user plugins; the new set replaces the old
        one in a single step. A disabled user plugin's code is never run: only its manifest is
        read, so it can be listed and switched on."""
        self._load(reimport=True)

    def load_enabled(self) -> None:
        """Import the user plugins enabled since the last load; keep the rest as they are."""
        self._load(reimport=False)

    def _load(self, *, reimport: bool) -> None:
        plugins: dict[str, LoadedPlugin] = {}
        owners: dict[str, str] = {}  # tool name → plugin that registered it first
        for folder, package in self._folders():
            plugin = self._loaded(folder, package, reimport=reimport)
            if plugin.name in plugins:
                log.warning("plugin %s in %s ignored: the name is taken", plugin.name, folder)
                continue
            clash = next((t.name for t in plugin.tools if t.name in owners), None)
            if clash is not None:
                plugin.error = f"tool '{clash}' is already provided by plugin '{owners[clash]}'"
                plugin.tools = []
            owners.update({t.name: plugin.name for t in plugin.tools})
            plugins[plugin.name] = plugin
        self._plugins = plugins
        self._rebuild()

    def _loaded(self, folder: Path, package: str, *, reimport: bool) -> LoadedPlugin:
        manifest = _manifest(folder)
        if isinstance(manifest, LoadedPlugin):
            return manifest  # its error says what is wrong with plugin.json
        enabled = self._states.get(manifest.name, manifest.enabled_by_default)
        if package == USER_PACKAGE and not enabled:
            return LoadedPlugin(manifest.name, manifest, imported=False)
        known = self._plugins.get(manifest.name)
        if not reimport and known is not None and known.imported and known.manifest == manifest:
            return known
        return _load(folder, package, manifest, self._settings)

    def set_states(self, states: dict[str, bool]) -> None:
        self._states = dict(states)
        self._rebuild()

    def is_enabled(self, name: str) -> bool:
        plugin = self._plugins.get(name)
        default = plugin.manifest.enabled_by_default if plugin and plugin.manifest else True
        return self._states.get(name, default)

    @property
    def tools(self) -> dict[str, Tool]:
        """Tools of the loaded, enabled plugins (before the owner's per-tool permissions)."""
        return self._tools

    def catalog(self) -> list[PluginInfo]:
        return [
            PluginInfo(
                name=p.name,
                version=p.manifest.version if p.manifest else "",
                description=p.manifest.description if p.manifest else "",
                enabled=self.is_enabled(p.name),
                loaded=p.error is None and p.imported,
                error=p.error,
                tools=[
                    ToolInfo(name=t.name, description=t.description, risk=t.risk) for t in p.tools
                ],
            )
            for p in sorted(self._plugins.values(), key=lambda p: p.name)
        ]

    def _rebuild(self) -> None:
        self._tools = {
            tool.name: tool
            for plugin in self._plugins.values()
            if plugin.error is None and plugin.imported and self.is_enabled(plugin.name)
            for tool in plugin.tools
        }

    def _folders(self) -> list[tuple[Path, str]]:
        found = [(d, BUILTIN_PACKAGE) for d in _plugin_dirs(self._builtin_dir)]
        if self._user_dir is not None:
            found += [(d, USER_PACKAGE) for d in _plugin_dirs(self._user_dir)]
        return found


def _plugin_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if (d / "plugin.json").is_file())


def _manifest(folder: Path) -> Manifest | LoadedPlugin:
    try:
        return Manifest.model_validate(json.loads((folder / "plugin.json").read_text()))
    except (OSError, ValueError, pydantic.ValidationError) as exc:
        return LoadedPlugin(folder.name, None, error=f"bad plugin.json: {_short(exc)}")


def _load(folder: Path, package: str, manifest: Manifest, settings: WorkerSettings) -> LoadedPlugin:
    plugin = LoadedPlugin(manifest.name, manifest)
    missing = [d for d in manifest.dependencies if not _installed(d)]
    if missing:
        plugin.error = f"missing dependencies: {', '.join(missing)}"
        return plugin
    registry = ToolRegistry(manifest.name, settings)
    try:
        module = _import(folder, package)
        register = getattr(module, "register", None)
        if not callable(register):
            raise TypeError("the package has no register(registry) function")
        register(registry)
    except Exception as exc:  # a broken plugin must not stop the others from loading
        log.warning("plugin %s failed to load: %s", manifest.name, exc)
        plugin.error = f"{type(exc).__name__}: {_short(exc)}"
        return plugin
    plugin.tools = registry.tools
    return plugin


def _import(folder: Path, package: str) -> ModuleType:
    if package == BUILTIN_PACKAGE:
        return importlib.import_module(f"{package}.{folder.name}")
    # User code may have changed since the last load: drop what was imported from it before.
    name = f"{package}.{folder.name}"
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]
    if package not in sys.modules:
        namespace = ModuleType(package)
        namespace.__path__ = []
        sys.modules[package] = namespace
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _installed(requirement: str) -> bool:
    match = _REQUIREMENT_NAME.match(requirement)
    if match is None:
        return False
    try:
        importlib.metadata.distribution(match.group(1))
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
