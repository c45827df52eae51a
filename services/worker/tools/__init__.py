"""Tools the model can call: the registry plugins fill, the context a tool runs with, the runner."""
