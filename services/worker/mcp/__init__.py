"""The owner's MCP servers as tools: one client session per server in each worker.

`config` reads the stored servers, `transports` opens one (streamable HTTP, or a stdio command
under bubblewrap), `connection` keeps one session per server alive across turns (lazily
opened, reconnected with backoff, following `tools/list_changed`), `tools` turns a server's
tools into registry `Tool`s named `mcp__<server>__<tool>`, and `manager` holds them all.
"""
