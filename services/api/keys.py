"""Provider keys: list them masked, save some at once, delete one; every worker is told.

Stored keys take precedence over the environment's (`source: "vault"` over `"env"`). Nothing
here logs a value, and no response carries one unmasked.
"""

from __future__ import annotations

from typing import Any

from services.api import broadcast
from services.api.context import AppContext
from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.schemas.keys import KeyEntry, KeyGroup, KeysResponse
from shared.control import SecretsChanged
from shared.db import Conn
from shared.providers import GOOGLE_REFRESH_TOKEN, PROVIDERS
from shared.vault import MAX_VALUE_CHARS, SecretNameError, VaultUnavailable, check_name, mask

GOOGLE_LOGIN = ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", GOOGLE_REFRESH_TOKEN)


class InvalidKeys(Unprocessable):
    pass


def groups() -> list[tuple[str, tuple[str, ...]]]:
    """(label, key names) as GET /api/keys lists them."""
    listed = [(p.label, p.env_keys) for p in PROVIDERS if p.env_keys]
    return [*listed, ("Google login (Gemini without an API key)", GOOGLE_LOGIN)]


def _entry(name: str, stored: dict[str, str | None], env: dict[str, str]) -> KeyEntry:
    if name in stored:
        value = stored[name]
        # A stored key that does not decrypt (no or another AION_SECRET_KEY) still counts as set.
        return KeyEntry(key=name, set=True, source="vault", masked=mask(value or ""))
    if env.get(name):
        return KeyEntry(key=name, set=True, source="env", masked=mask(env[name]))
    return KeyEntry(key=name, set=False, source="unset", masked="")


async def stored_values(ctx: AppContext, conn: Conn) -> dict[str, str | None]:
    vault = ctx.vault
    readable = await vault.load(conn)
    return {name: readable.get(name) for name in await vault.names(conn)}


async def listing(ctx: AppContext, conn: Conn) -> KeysResponse:
    stored = await stored_values(ctx, conn)
    env = ctx.env_secrets
    known = {name for _, names in groups() for name in names}
    others = sorted((set(stored) | set(env)) - known)
    return KeysResponse(
        providers=[
            KeyGroup(label=label, env_keys=[_entry(n, stored, env) for n in names])
            for label, names in groups()
        ],
        other_keys=[_entry(n, stored, env) for n in others],
    )


def validate(body: dict[str, Any]) -> dict[str, str]:
    if not body:
        raise InvalidKeys('body: give at least one key, e.g. {"OPENAI_API_KEY": "sk-..."}')
    problems, values = [], {}
    for name, value in body.items():
        try:
            check_name(name)
        except SecretNameError as exc:
            problems.append(str(exc))
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: the value must be a non-empty string")
        elif len(value) > MAX_VALUE_CHARS or any(ord(c) < 32 for c in value.strip()):
            problems.append(f"{name}: the value is too long or has control characters")
        else:
            values[name] = value.strip()
    if problems:
        raise InvalidKeys("; ".join(problems))
    return values


async def save(ctx: AppContext, conn: Conn, body: dict[str, Any]) -> list[str]:
    values = validate(body)
    try:
        await ctx.vault.store(conn, values)  # one transaction: all of them or none
    except VaultUnavailable as exc:
        raise Conflict(str(exc)) from exc
    await announce(ctx)
    return sorted(values)


async def delete(ctx: AppContext, conn: Conn, name: str) -> None:
    if not await ctx.vault.delete(conn, name):
        raise NotFound(f"No stored key '{name[:80]}' (keys from the environment stay).")
    await announce(ctx)


async def announce(ctx: AppContext) -> None:
    """Tell the workers the keys changed; they have applied it when this returns."""
    await broadcast.announce(ctx, SecretsChanged())
