"""The api gateway: `create_app()` and its lifespan, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.api.alexa.certs import AlexaTrust
from services.api.console import Console
from services.api.context import app_context
from services.api.errors import install_error_handlers
from services.api.gate import Gate
from services.api.metrics import RequestMetrics
from services.api.routes import (
    alexa,
    approvals,
    audio,
    chat,
    claude_cli,
    config,
    conversations,
    files,
    history,
    keys,
    knowledge,
    mcp,
    memory,
    metrics,
    notices,
    oauth,
    openai_compat,
    openapi,
    plugins,
    prompts,
    providers,
    session,
    status,
    telegram,
    updates,
)
from services.api.settings import ApiSettings
from shared import __version__


def create_app(
    settings: ApiSettings | None = None, *, alexa_trust: AlexaTrust | None = None
) -> FastAPI:
    """The api.

    `alexa_trust` stands in for Amazon (the certificate server and the public roots) when given:
    the tests pass a CA of their own and a fetcher serving its chain, and run this app in their
    process. It is an argument, not a setting, on purpose: no environment variable can point a
    deployed api at another CA, and every Alexa check runs whichever trust is used.
    """
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app_context(settings, alexa_trust) as context:
            app.state.context = context
            yield

    # No public schema or docs: the OpenAPI document is a route that needs the owner's token
    # (routes/openapi.py), like every route but a few (API.md).
    app = FastAPI(
        title="AION",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    routers = (
        status,
        session,
        chat,
        notices,
        conversations,
        history,
        config,
        prompts,
        plugins,
        mcp,
        approvals,
        alexa,
        audio,
        metrics,
        updates,
        memory,
        files,
        knowledge,
        providers,
        keys,
        oauth,
        claude_cli,
        telegram,
        openai_compat,
        openapi,
    )
    for router in (module.router for module in routers):
        app.include_router(router)
    # Paths no route matched (and no route half-matched: those stay 405) are the console's.
    app.router.default = Console(settings.aion_console_dir, app.router.default)
    # Innermost first. The gate runs before any route reads a body; CORS answers preflights
    # (which carry no token) before it; the client address is settled before both.
    app.add_middleware(
        Gate,
        large_body_bytes=settings.aion_max_body_bytes,
        upload_bytes=settings.aion_file_max_bytes,
    )
    if settings.aion_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.aion_cors_origins,
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            allow_methods=["GET", "POST", "DELETE"],
            expose_headers=["X-AION-Job"],
        )
    if settings.aion_trusted_proxies:
        # X-Forwarded-For only from these; uvicorn's own handling is off (services/api/__main__).
        proxies = [str(network) for network in settings.aion_trusted_proxies]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    app.add_middleware(RequestMetrics)  # outermost: counts the gate's 401/413/429 answers too
    return app
