"""The bot's handlers, one module per kind of update: messages, commands, approval buttons.

Handlers never wait for a turn: they check the allowlist (common.admitted) and put the work
into the chat's queue (services/telegram/chats.py).
"""
