"""The bot's life: which token it runs with, polling or webhook, and what it tells the api.

One `Supervisor` per process. It applies the configuration the api hands out (GET
/api/telegram/bot, the token sealed under AION_TELEGRAM_HANDOVER_KEY) at start and on every
`telegram_changed` / `secrets_changed` control message: new allowed ids take effect at once; a
new token stops the old bot and starts one with the new token (exactly once per change); no
token stops it. Telegram allows one getUpdates poller per token, so a process polls only while
it holds the token's lease in Redis; a second replica waits as a standby.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

import httpx
import redis.exceptions
from redis.asyncio import Redis
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from services.telegram.api_client import ApiError
from services.telegram.bot import Runtime, build_application, register_commands
from services.telegram.media import Transcriber
from services.telegram.settings import TelegramSettings
from services.telegram.subscriptions import subscribe_forever
from shared.control import (
    CONTROL_CHANNEL,
    SecretsChanged,
    TelegramChanged,
    decode_control,
)
from shared.sealing import Sealer, SealError
from shared.telegram import (
    STATUS_KEY,
    SealedSecret,
    TelegramConfig,
    TelegramStatus,
    fingerprint,
    write_status,
)

log = logging.getLogger("aion.telegram.supervisor")

LEASE_PREFIX = "aion:telegram:poller:"
LEASE_SECONDS = 15
TICK_SECONDS = 5.0
RETRY_FAILED_SECONDS = 60.0  # a refused token is tried again this often (Telegram may be down)
ALLOWED_UPDATES = ["message", "callback_query"]


class Supervisor:
    def __init__(
        self,
        settings: TelegramSettings,
        redis: Redis,
        handover: Sealer,
        runtime: Runtime,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.handover = handover
        self.runtime = runtime
        self.app: Application | None = None  # type: ignore[type-arg]
        self.token: str | None = None  # the token the running bot uses (or tries to)
        self.state = "off"
        self.detail: str | None = None
        self._instance = secrets.token_hex(8)
        self._lock = asyncio.Lock()
        self._wanted: TelegramConfig | None = None
        self._failed_at = 0.0
        self._stale = False  # the last attempt to get the configuration failed

    @property
    def polling_active(self) -> bool:
        return self.state in ("polling", "webhook")

    @property
    def webhook(self) -> bool:
        return bool(self.settings.telegram_webhook_url)

    # -- configuration ----------------------------------------------------------------------

    async def apply(self) -> None:
        """Ask the api for the configuration and make the bot match it (an api that cannot be
        reached leaves everything as it is; `tick` asks again)."""
        async with self._lock:
            try:
                config = await self._fetch()
            except (ApiError, httpx.HTTPError, SealError) as exc:
                log.warning("could not get the bot configuration from the api: %s", exc)
                self._stale = True
                if self.token is None:
                    self._set_state("failed", f"configuration not available: {exc}"[:200])
                await self.report()
                return
            self._stale = False
            self._wanted = config
            self.runtime.allowed_ids = config.allowed_ids
            self.runtime.group_chats = config.group_chats
            if config.token != self.token or (config.token and self.state in ("failed", "standby")):
                await self._stop_bot()
                self.token = config.token
                if config.token:
                    await self._start_bot(config.token)
                else:
                    self._set_state("off")
            await self.report()

    async def _fetch(self) -> TelegramConfig:
        bot = await self.runtime.api.bot_config()
        self.runtime.transcriber = Transcriber(
            self._open(bot.transcription_key, self.settings.env_openai_key),
            self.settings.openai_base_url,
            self.settings.aion_transcribe_model,
        )
        token = self._open(bot.token, self.settings.env_bot_token)
        return TelegramConfig(
            token,
            frozenset(int(i) for i in bot.allowed_ids),
            frozenset(int(i) for i in bot.group_chats),
        )

    def _open(self, secret: SealedSecret, env_value: str | None) -> str | None:
        if secret.source == "vault" and secret.sealed:
            return self.handover.unseal(secret.sealed)
        if secret.source == "env":
            if env_value is None or fingerprint(env_value) != secret.fingerprint:
                log.warning("the api has an environment secret this service lacks (or differs)")
            return env_value
        return None

    async def _start_bot(self, token: str) -> None:
        if not await self._take_lease(token):
            self._set_state("standby", "another AION telegram replica polls this token")
            return
        self._set_state("starting")
        await self.report()
        app = build_application(self.runtime, token, self.settings.telegram_api_base_url)
        try:
            await app.initialize()  # getMe: a wrong token fails here
            await app.start()
            if self.webhook:
                await app.bot.set_webhook(
                    self.settings.webhook_endpoint,
                    secret_token=self.settings.webhook_secret(token),
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await app.bot.delete_webhook()
                assert app.updater is not None
                await app.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES,
                    timeout=self.settings.aion_telegram_poll_seconds,
                )
            await register_commands(app)
        except (InvalidToken, TelegramError, OSError) as exc:
            reason = "Telegram refused the token" if isinstance(exc, InvalidToken) else str(exc)
            log.warning("the bot could not start: %s", reason)
            await self._shutdown(app)
            await self._drop_lease(token)
            self._set_state("failed", reason[:200])
            self._failed_at = time.monotonic()
            return
        self.app = app
        username = app.bot.username
        self._set_state("webhook" if self.webhook else "polling")
        log.info("telegram bot @%s is %s", username, self.state)

    async def _stop_bot(self) -> None:
        app, self.app = self.app, None
        if app is not None:
            await self.runtime.queues.close()
            await self._shutdown(app)
        if self.token:
            await self._drop_lease(self.token)

    async def _shutdown(self, app: Application) -> None:  # type: ignore[type-arg]
        with contextlib.suppress(Exception):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
        with contextlib.suppress(Exception):
            await app.shutdown()

    def _set_state(self, state: str, detail: str | None = None) -> None:
        self.state, self.detail = state, detail

    async def report(self) -> None:
        status = TelegramStatus(
            polling_active=self.polling_active,
            token_fingerprint=fingerprint(self._wanted.token if self._wanted else None),
            state=self.state,
            detail=self.detail,
        )
        try:
            await write_status(self.redis, status)
        except redis.exceptions.RedisError as exc:
            log.warning("could not report the bot's status: %s", exc)

    # -- the poller lease -------------------------------------------------------------------

    def _lease_key(self, token: str) -> str:
        return f"{LEASE_PREFIX}{fingerprint(token)}"

    async def _take_lease(self, token: str) -> bool:
        key = self._lease_key(token)
        if await self.redis.set(key, self._instance, nx=True, ex=LEASE_SECONDS):
            return True
        holder: bytes | None = await self.redis.get(key)
        return holder == self._instance.encode()

    async def _renew_lease(self, token: str) -> bool:
        key = self._lease_key(token)
        if (await self.redis.get(key)) != self._instance.encode():
            return False
        await self.redis.expire(key, LEASE_SECONDS)
        return True

    async def _drop_lease(self, token: str) -> None:
        key = self._lease_key(token)
        with contextlib.suppress(redis.exceptions.RedisError):
            if (await self.redis.get(key)) == self._instance.encode():
                await self.redis.delete(key)

    # -- loops ------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Keep the lease and the status fresh; retry a bot that failed or waits as standby."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                if self.app is not None and self.token and not await self._renew_lease(self.token):
                    log.warning("lost the poller lease; stopping this bot")
                    async with self._lock:
                        await self._stop_bot()
                        self._set_state("standby", "another replica took over")
                retry_failed = time.monotonic() - self._failed_at > RETRY_FAILED_SECONDS
                if self._stale or (
                    self.token
                    and (self.state == "standby" or (self.state == "failed" and retry_failed))
                ):
                    await self.apply()
                await self.report()
            except Exception:
                log.exception("bot upkeep failed")

    async def listen(self) -> None:
        """Re-apply the configuration when the api says it changed (and after every reconnect:
        whatever changed while we were not listening)."""
        await subscribe_forever(self.redis, CONTROL_CHANNEL, self._on_control, self.apply)

    async def _on_control(self, data: bytes) -> None:
        try:
            control = decode_control(data)
        except ValueError:
            return
        if isinstance(control, TelegramChanged | SecretsChanged):
            await self.apply()

    async def close(self) -> None:
        async with self._lock:
            await self._stop_bot()
            self._set_state("off")
            self._wanted = None
        with contextlib.suppress(redis.exceptions.RedisError):
            await self.redis.delete(STATUS_KEY)
