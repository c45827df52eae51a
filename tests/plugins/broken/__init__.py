"""A plugin whose import fails: it must be listed with its error while the others load."""

raise ImportError("this plugin is broken on purpose")
