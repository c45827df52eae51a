"""The telegram service's process: the bot (through its supervisor) inside a small ASGI app.

The ASGI app serves /healthz, /readyz and /metrics for compose and k8s, and the webhook
endpoint when TELEGRAM_WEBHOOK_URL is set; its lifespan owns every resource of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from telegram import Bot, Update

from services.telegram.api_client import AionApi
from services.telegram.chats import ChatQueues
from services.telegram.outbox import Outbox
from services.telegram.present import ChatOut, notify
from services.telegram.relay import relay_background_turns
from services.telegram.runtime import Runtime
from services.telegram.settings import WEBHOOK_PATH, TelegramSettings
from services.telegram.supervisor import Supervisor
from shared.probes import Check, Probes, add_probes

log = logging.getLogger("aion.telegram")


@dataclass
class Service:
    settings: TelegramSettings
    supervisor: Supervisor
    redis: Redis


@asynccontextmanager
async def service(settings: TelegramSettings) -> AsyncIterator[Service]:
    redis = Redis.from_url(settings.redis_url)
    api = AionApi(settings.aion_api_url, settings.api_credential)

    def current_bot() -> Bot | None:
        return supervisor.app.bot if supervisor.app is not None else None

    async def report_failure(chat_id: int, exc: BaseException) -> None:
        """What the owner sees when handling their message failed (the log has the rest)."""
        bot = current_bot()
        if bot is not None:
            out = ChatOut(bot, runtime.outbox, runtime.api, chat_id)
            await notify(out, "⚠️ Something went wrong on my side; please try again.")

    runtime = Runtime(
        api=api,
        outbox=Outbox(settings.aion_telegram_edit_seconds),
        queues=ChatQueues(report_failure),
        file_wait_seconds=settings.aion_telegram_file_wait_seconds,
    )
    supervisor = Supervisor(settings, redis, settings.handover(), runtime)

    tasks = [
        asyncio.create_task(supervisor.listen()),
        asyncio.create_task(supervisor.tick()),
        asyncio.create_task(relay_background_turns(redis, runtime, current_bot)),
    ]
    try:
        yield Service(settings, supervisor, redis)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await supervisor.close()
        await api.aclose()
        await redis.aclose()


def create_app(settings: TelegramSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service(settings) as svc:
            app.state.service = svc
            yield

    app = FastAPI(
        title="AION telegram", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )

    def svc(request: Request) -> Service:
        found: Service = request.app.state.service
        return found

    # Ready when Redis answers: the api's replies and the chats' queues run through it.
    def readiness(request: Request) -> Mapping[str, Check]:
        return {"Redis": svc(request).redis.ping}

    add_probes(app, "telegram", Probes(checks=readiness))

    @app.post(WEBHOOK_PATH)
    async def webhook(request: Request) -> Response:
        """Telegram's calls in webhook mode; the secret header proves they come from Telegram."""
        supervisor = svc(request).supervisor
        bot_app, token = supervisor.app, supervisor.token
        if not supervisor.webhook or bot_app is None or token is None:
            return JSONResponse({"error": "NotFound", "detail": "No webhook here."}, 404)
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), settings.webhook_secret(token).encode()):
            return JSONResponse({"error": "Forbidden", "detail": "Wrong secret token."}, 403)
        try:
            update = Update.de_json(await request.json(), bot_app.bot)
        except ValueError:
            return JSONResponse({"error": "BadRequest", "detail": "Not an update."}, 400)
        await bot_app.update_queue.put(update)
        return Response(status_code=200)

    return app
