"""What a plugin's `register(registry)` receives, and the tools it adds.

A tool is an async function `fn(ctx: ToolContext, args: Params) -> result`, where `Params` is a
pydantic model (its JSON Schema is what the model is offered) and the result anything JSON can
carry. Raising `ToolError` gives the model a clean failure message; any other exception is
reported as a failure too, without crashing the turn.

Besides its `risk`, a tool declares what it means for prompt injection (see `policy`):
`reads_untrusted` when its result carries content from outside the owner's control (a web page,
a file, a command's output), and `sends_or_persists` when it can carry data out of AION or leave
something a later turn acts on (a request to a URL the model chose, a memory, a reminder, a
todo, a file). Once a turn has read untrusted content, `sends_or_persists` tools wait for the
owner's approval for the rest of that turn.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel

from services.worker.providers.base import ToolSpec
from services.worker.settings import WorkerSettings

if TYPE_CHECKING:
    from services.worker.tools.context import ToolContext

Risk = Literal["safe", "ask"]
ToolFunc = Callable[["ToolContext", Any], Awaitable[Any]]
TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
DEFAULT_TIMEOUT_SECONDS = 30.0


class ToolError(Exception):
    """A tool failed in a way the model can understand and react to."""


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    params: type[BaseModel]
    func: ToolFunc
    risk: Risk
    timeout: float
    plugin: str
    spec: ToolSpec  # what the model is offered, built once (a JSON Schema costs ~1 ms to make)
    reads_untrusted: bool = False
    sends_or_persists: bool = False


class ToolRegistry:
    """Collects one plugin's tools; names must be unique across all plugins.

    `settings` are the worker's environment settings, read once at start, for plugins whose
    tools depend on them (a search backend, say)."""

    def __init__(self, plugin: str, settings: WorkerSettings) -> None:
        self.plugin = plugin
        self.settings = settings
        self.tools: list[Tool] = []

    def add(
        self,
        name: str,
        description: str,
        params: type[BaseModel],
        func: ToolFunc,
        *,
        risk: Risk = "safe",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        reads_untrusted: bool = False,
        sends_or_persists: bool = False,
    ) -> Tool:
        if not TOOL_NAME.match(name):
            raise ValueError(f"tool name {name!r} must match {TOOL_NAME.pattern}")
        if risk not in ("safe", "ask"):
            raise ValueError(f"tool {name!r}: risk must be 'safe' or 'ask'")
        if not timeout > 0:
            raise ValueError(f"tool {name!r}: timeout must be positive")
        if any(tool.name == name for tool in self.tools):
            raise ValueError(f"tool {name!r} is registered twice")
        schema = params.model_json_schema()
        schema.pop("title", None)
        description = description.strip()
        spec = ToolSpec(name, description, schema)
        tool = Tool(
            name,
            description,
            params,
            func,
            risk,
            timeout,
            self.plugin,
            spec,
            reads_untrusted=reads_untrusted,
            sends_or_persists=sends_or_persists,
        )
        self.tools.append(tool)
        return tool

    def tool(
        self,
        name: str | None = None,
        *,
        risk: Risk = "safe",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        reads_untrusted: bool = False,
        sends_or_persists: bool = False,
    ) -> Callable[[ToolFunc], ToolFunc]:
        """Decorator form: the name defaults to the function's, the description to its
        docstring, the parameters model to the annotation of its second argument."""

        def decorate(func: ToolFunc) -> ToolFunc:
            hints = get_type_hints(func)
            arg_names = list(inspect.signature(func).parameters)
            params = hints.get(arg_names[1]) if len(arg_names) == 2 else None
            if not (isinstance(params, type) and issubclass(params, BaseModel)):
                raise TypeError(f"{func.__name__}: second argument must be a pydantic model")
            description = inspect.getdoc(func) or ""
            self.add(
                name or func.__name__,
                description,
                params,
                func,
                risk=risk,
                timeout=timeout,
                reads_untrusted=reads_untrusted,
                sends_or_persists=sends_or_persists,
            )
            return func

        return decorate
