"""Google login for Gemini: authorization-code flow with PKCE and a single-use state.

`start` keeps the state (with its PKCE verifier) in Redis for 10 minutes; `callback` takes it
out atomically (GETDEL), so a replayed or forged state finds nothing. The refresh token Google
returns is stored encrypted; workers turn it into access tokens (providers/google_auth.py).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from urllib.parse import urlencode

import httpx

from services.api import keys
from services.api.context import AppContext
from services.api.errors import Conflict
from services.api.providers import secrets as current_secrets
from shared.db import Conn
from shared.providers import GOOGLE_REFRESH_TOKEN

STATE_TTL_SECONDS = 600
SCOPES = (
    "https://www.googleapis.com/auth/cloud-platform "
    "https://www.googleapis.com/auth/generative-language.retriever"
)
CALLBACK_PATH = "/api/oauth/google/callback"


class LoginFailed(Exception):
    """The callback could not finish; the message is shown (escaped) on the page."""


def _state_key(state: str) -> str:
    return f"aion:oauth:google:{state}"


async def _client(ctx: AppContext, conn: Conn) -> tuple[str, str]:
    values = await current_secrets(ctx, conn)
    client_id, client_secret = values.get("GOOGLE_CLIENT_ID"), values.get("GOOGLE_CLIENT_SECRET")
    if not client_id or not client_secret:
        raise Conflict(
            "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are not configured: set them in the "
            "environment or save them with POST /api/keys."
        )
    return client_id, client_secret


def redirect_uri(ctx: AppContext) -> str:
    public = ctx.settings.aion_public_url
    if not public:
        raise Conflict(
            "AION_PUBLIC_URL is not set: Google needs the address it sends you back to "
            f"(<AION_PUBLIC_URL>{CALLBACK_PATH}, registered as a redirect URI of the client)."
        )
    return public.rstrip("/") + CALLBACK_PATH


async def start(ctx: AppContext, conn: Conn) -> str:
    client_id, _ = await _client(ctx, conn)
    redirect = redirect_uri(ctx)
    if not ctx.vault.available:
        raise Conflict("AION_SECRET_KEY is not set: the Google login could not be stored.")
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    await ctx.redis.set(_state_key(state), verifier, ex=STATE_TTL_SECONDS)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "client_id": client_id,
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": SCOPES,
        "state": state,
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
        "access_type": "offline",  # a refresh token, so the login outlives the hour
        "prompt": "consent",  # and a new one even when the owner consented before
    }
    return f"{ctx.settings.aion_google_auth_url}?{urlencode(query)}"


async def callback(
    ctx: AppContext, conn: Conn, code: str | None, state: str | None, error: str | None
) -> None:
    verifier = await ctx.redis.getdel(_state_key(state)) if state else None
    if verifier is None:
        raise LoginFailed("This sign-in link is not valid (unknown, used or expired state).")
    if error:
        raise LoginFailed(f"Google did not sign you in: {error}")
    if not code:
        raise LoginFailed("Google sent no authorization code.")
    client_id, client_secret = await _client(ctx, conn)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier.decode() if isinstance(verifier, bytes) else verifier,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri(ctx),
    }
    try:
        response = await ctx.http.post(ctx.settings.aion_google_token_url, data=form, timeout=15)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginFailed("Google's token endpoint did not answer properly.") from exc
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(token, str) or not token:
        reason = body.get("error") if isinstance(body, dict) else None
        raise LoginFailed(f"Google refused the sign-in ({reason or response.status_code}).")
    await ctx.vault.store(conn, {GOOGLE_REFRESH_TOKEN: token})
    await keys.announce(ctx)


def page(title: str, message: str) -> str:
    """The small page the popup shows; everything reflected is escaped."""
    title, message = html.escape(title), html.escape(message)
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>AION: "
        f"{title}</title></head><body><h1>{title}</h1><p>{message}</p>"
        "<script>setTimeout(function(){window.close()},3000)</script></body></html>"
    )
