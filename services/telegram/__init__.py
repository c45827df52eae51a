"""The telegram service: a Telegram bot that is an api client like any other (features: later)."""
