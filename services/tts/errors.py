"""The tts service's own errors, in the project's one layer (shared/http_errors.py)."""

from __future__ import annotations

from fastapi import FastAPI

from shared.db import POSTGRES
from shared.http_errors import Conflict, ServiceUnavailable, Unprocessable
from shared.http_errors import install_error_handlers as _install


class NothingToSay(Unprocessable):
    """The text holds nothing speakable once markup is gone."""


class UnknownVoice(Unprocessable):
    """No installed voice has that name."""


class SpeechOff(Conflict):
    """The owner turned voice replies off."""


class SpeechFailed(ServiceUnavailable):
    """Every engine that could speak failed."""


def install_error_handlers(app: FastAPI) -> None:
    _install(app, service="tts service", dependencies=(POSTGRES,))
