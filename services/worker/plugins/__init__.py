"""Built-in plugins, shipped in the worker image (one package each, with its plugin.json)."""
