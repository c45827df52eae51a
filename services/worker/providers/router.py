"""`app.provider`: one LLMProvider in front of every adapter.

It picks the adapter by the model's prefix (shared/providers.py), strips routing prefixes, and
fails over through `request.fallbacks`: a ProviderError before the adapter yielded anything
moves on to the next model, announced by a Notice(trigger="failover"); once a chunk went out,
the error is the caller's. Clients are built from the current secrets on each call: a changed
key (or Google access token) builds a new client, and the old one is closed once the calls that
still use it are done.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.worker.providers.anthropic import AnthropicProvider
from services.worker.providers.base import (
    LLMProvider,
    Notice,
    ProviderChunk,
    ProviderError,
    ProviderRequest,
)
from services.worker.providers.claude_cli import ClaudeCliProvider
from services.worker.providers.google_auth import GoogleTokens
from services.worker.providers.openai_compat import OpenAICompatibleProvider
from services.worker.secrets_cache import SecretsCache
from services.worker.settings import WorkerSettings
from shared.providers import (
    CLAUDE_CLI_TOKEN,
    GOOGLE_REFRESH_TOKEN,
    ProviderInfo,
    provider_for,
    upstream_name,
)
from shared.vault import mask

log = logging.getLogger("aion.worker.providers")

Credentials = tuple[str, str | None]  # (key or token, base URL)


@dataclass(eq=False)
class _Client:
    adapter: LLMProvider
    credentials: Credentials
    active: int = 0
    retired: bool = False


def scrub(message: str, secret: str) -> str:
    return message.replace(secret, mask(secret)) if len(secret) >= 8 else message


def ollama_v1(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


class ProviderRouter:
    name = "router"

    def __init__(self, settings: WorkerSettings, secrets: SecretsCache) -> None:
        self._settings = settings
        self._secrets = secrets
        self._google = GoogleTokens(settings.aion_google_token_url)
        self._clients: dict[str, _Client] = {}

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        models = list(dict.fromkeys(m for m in (request.model, *request.fallbacks) if m))
        for position, model in enumerate(models):
            started = False
            try:
                async with contextlib.aclosing(self._stream_one(model, request)) as chunks:
                    async for chunk in chunks:
                        started = True
                        yield chunk
                return
            except ProviderError as exc:
                if started or position + 1 == len(models):
                    raise
                following = models[position + 1]
                log.warning(
                    "provider failed before output; failing over",
                    extra={"model": model, "error": exc.message, "next_model": following},
                )
                yield Notice(text=f"{exc.message} — switching to {following}.", trigger="failover")

    async def _stream_one(
        self, model: str, request: ProviderRequest
    ) -> AsyncGenerator[ProviderChunk, None]:
        info = provider_for(model)
        client = await self._client(info, model)
        call = dataclasses.replace(request, model=upstream_name(info, model), fallbacks=())
        chunks = client.adapter.stream(call)
        client.active += 1
        try:
            async for chunk in chunks:
                yield chunk
        except ProviderError as exc:
            # A provider may quote the key it was given; the message goes to logs and owners.
            raise ProviderError(
                scrub(exc.message, client.credentials[0]), status=exc.status
            ) from exc
        finally:
            # Close the adapter's stream now (its HTTP response, its subprocess), not at GC.
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
            client.active -= 1
            if client.retired and client.active == 0:
                await client.adapter.aclose()

    async def _client(self, info: ProviderInfo, model: str) -> _Client:
        secrets = await self._secrets.get()
        credentials = await self._credentials(info, model, secrets)
        current = self._clients.get(info.id)
        if current is not None and current.credentials == credentials:
            return current
        fresh = _Client(self._build(info, credentials), credentials)
        self._clients[info.id] = fresh
        if current is not None:
            current.retired = True
            if current.active == 0:
                await current.adapter.aclose()
        return fresh

    async def _credentials(
        self, info: ProviderInfo, model: str, secrets: Mapping[str, str]
    ) -> Credentials:
        base_url = self._settings.base_url(info.base_url_setting) or info.default_base_url
        key = next((secrets[k] for k in info.env_keys if secrets.get(k)), "")
        if info.id == "ollama":
            return "ollama", ollama_v1(base_url or "http://localhost:11434")
        if info.id == "claude-cli":
            return secrets.get(CLAUDE_CLI_TOKEN, ""), None
        if info.id == "gemini" and not key and secrets.get(GOOGLE_REFRESH_TOKEN):
            key = await self._google.access_token(
                secrets[GOOGLE_REFRESH_TOKEN],
                secrets.get("GOOGLE_CLIENT_ID", ""),
                secrets.get("GOOGLE_CLIENT_SECRET", ""),
            )
        if not key and info.id == "openai" and base_url:
            key = "not-set"  # a keyless OpenAI-compatible server (vLLM, LM Studio) takes any
        if not key:
            hint = " or sign in with Google" if info.id == "gemini" else ""
            raise ProviderError(
                f"{model}: no {' / '.join(info.env_keys)} is set; save one with "
                f"POST /api/keys{hint}"
            )
        return key, base_url

    def _build(self, info: ProviderInfo, credentials: Credentials) -> LLMProvider:
        key, base_url = credentials
        settings = self._settings
        timeout, retries = (
            settings.aion_provider_timeout_seconds,
            settings.aion_provider_max_retries,
        )
        transport = settings.aion_provider_http_client
        if info.wire == "anthropic":
            return AnthropicProvider(
                api_key=key,
                base_url=base_url,
                timeout=timeout,
                max_retries=retries,
                transport=transport,
            )
        if info.wire == "claude-cli":
            return ClaudeCliProvider(
                path=settings.aion_claude_cli_path, token=key or None, idle_timeout=timeout
            )
        return OpenAICompatibleProvider(
            api_key=key,
            base_url=base_url,
            timeout=timeout,
            max_retries=retries,
            flavor=info.id,
            send_cache_key=_sends_cache_key(settings.aion_prompt_cache_key, info.id, base_url),
            transport=transport,
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.adapter.aclose()
        self._clients.clear()
        await self._google.aclose()


def _sends_cache_key(setting: str, provider: str, base_url: str | None) -> bool:
    """`prompt_cache_key` for OpenAI's own API (`auto`), every endpoint (`on`) or none."""
    if setting != "auto":
        return setting == "on"
    host = urlsplit(base_url).hostname if base_url else "api.openai.com"
    return provider == "openai" and host == "api.openai.com"
