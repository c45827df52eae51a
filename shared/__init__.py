"""AION's shared package: the contracts every service imports (settings, events, jobs, SQL)."""

__version__ = "0.1.0"
