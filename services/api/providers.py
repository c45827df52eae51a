"""GET /api/providers and POST /api/model: which providers AION can reach, and the default model."""

from __future__ import annotations

import asyncio

from services.api import claude_cli
from services.api.broadcast import announce
from services.api.context import AppContext
from services.api.keys import stored_values
from services.api.schemas.providers import ClaudeCliView, ModelSet, ProvidersResponse, ProviderView
from shared.control import SettingsChanged
from shared.db import Conn
from shared.db import settings as settings_repo
from shared.providers import GOOGLE_REFRESH_TOKEN, PROVIDERS, ProviderInfo, provider_for

OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"


async def secrets(ctx: AppContext, conn: Conn) -> dict[str, str]:
    """Environment keys under the stored ones (the workers' precedence)."""
    stored = {k: v for k, v in (await stored_values(ctx, conn)).items() if v}
    return {**ctx.env_secrets, **stored}


def _base_url(ctx: AppContext, provider: ProviderInfo) -> str | None:
    return ctx.settings.base_url(provider.base_url_setting) or provider.default_base_url


def _configured(
    ctx: AppContext, provider: ProviderInfo, keys: dict[str, str], cli: ClaudeCliView
) -> bool:
    if provider.id == "claude-cli":
        return cli.installed and cli.authenticated
    if provider.id == "ollama":
        return ctx.settings.ollama_base_url is not None
    if any(keys.get(k) for k in provider.env_keys):
        return True
    if provider.id == "gemini":
        return all(keys.get(k) for k in (GOOGLE_REFRESH_TOKEN, "GOOGLE_CLIENT_ID"))
    return provider.id == "openai" and ctx.settings.openai_base_url is not None


async def _models(
    ctx: AppContext, provider: ProviderInfo, keys: dict[str, str], configured: bool
) -> list[str]:
    if not (provider.live_models and configured):
        return list(provider.models)
    base = _base_url(ctx, provider) or OPENAI_DEFAULT_BASE
    key = next((keys[k] for k in provider.env_keys if keys.get(k)), "")
    live = await ctx.model_lists.get(provider, base, key)
    return live if live else list(provider.models)


async def listing(ctx: AppContext, conn: Conn) -> ProvidersResponse:
    keys = await secrets(ctx, conn)
    active = await settings_repo.active_model(conn)
    cli = await claude_cli.status(ctx)
    configured = [_configured(ctx, p, keys, cli) for p in PROVIDERS]
    models = await asyncio.gather(
        *(_models(ctx, p, keys, ok) for p, ok in zip(PROVIDERS, configured, strict=True))
    )
    return ProvidersResponse(
        providers=[
            ProviderView(
                id=p.id,
                label=p.label,
                prefix=p.prefix,
                models=found,
                env_keys=list(p.env_keys),
                configured=ok,
            )
            for p, found, ok in zip(PROVIDERS, models, configured, strict=True)
        ],
        active_model=active or ctx.settings.aion_model,
        total_providers=len(PROVIDERS),
    )


async def set_model(ctx: AppContext, conn: Conn, model: str) -> ModelSet:
    await settings_repo.store_value(conn, settings_repo.ACTIVE_MODEL_KEY, model)
    await announce(ctx, SettingsChanged())  # applied by every live worker when this returns
    return ModelSet(model=model, provider=provider_for(model).id)
