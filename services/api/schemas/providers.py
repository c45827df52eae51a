"""Providers, the default model, the Claude CLI and the Google login."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from services.api.schemas.common import Body

MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"


class ModelRequest(Body):
    model: str = Field(pattern=MODEL_PATTERN, description="e.g. gpt-4o-mini, claude-sonnet-4-5")


class ModelSet(BaseModel):
    ok: bool = True
    model: str
    provider: str


class ProviderView(BaseModel):
    id: str
    label: str
    prefix: str
    models: list[str]
    env_keys: list[str]
    configured: bool


class ProvidersResponse(BaseModel):
    providers: list[ProviderView]
    active_model: str
    total_providers: int


class ClaudeCliView(BaseModel):
    installed: bool
    authenticated: bool
    path: str | None
    version: str | None


class ClaudeCliLogin(BaseModel):
    ok: bool
    step: Literal["not_installed", "already_authenticated", "login_started", "failed"]
    message: str


class OAuthStart(BaseModel):
    url: str = Field(description="Google's consent page, with a one-time state and PKCE")
