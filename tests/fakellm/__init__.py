"""Local fake of the OpenAI Chat Completions API for AION's tests and benchmark.

Deterministic replies driven by `[[key=value]]` directives in the last user
message; see `script.py` for the directives and `server.py` for `FakeLLM`.
"""

from .app import FakeLLMApp, create_app
from .script import DirectiveError, Directives, parse_directives
from .server import FakeLLM, serve_forever

__all__ = [
    "DirectiveError",
    "Directives",
    "FakeLLM",
    "FakeLLMApp",
    "create_app",
    "parse_directives",
    "serve_forever",
]
