"""A real MCP server for the tests, written with the SDK's server side (`server.py`)."""
