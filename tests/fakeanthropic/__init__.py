"""Local fake of the Anthropic Messages API (streaming), for AION's tests.

It checks requests the way the real API does where AION could get them wrong (roles, tool_use
and tool_result pairing, thinking), streams the real SSE event sequence, and records each
request's body and headers. See `app.py` for what model names and messages make it do.
"""

from .app import FakeAnthropicApp
from .server import FakeAnthropic

__all__ = ["FakeAnthropic", "FakeAnthropicApp"]
