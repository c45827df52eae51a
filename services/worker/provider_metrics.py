"""Provider latency and errors for Prometheus, recorded around any LLMProvider.

A wrapper rather than code in each adapter: every provider gets the same measurements
(request → first chunk, request → end of stream, failures) under its own `name`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from services.worker.providers.base import LLMProvider, ProviderChunk, ProviderRequest
from shared import metrics
from shared.providers import provider_for


class MeteredProvider:
    def __init__(self, inner: LLMProvider) -> None:
        self._inner = inner
        self.name = inner.name

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderChunk]:
        # Behind the router, the provider is the one the model's prefix picks (a failover to
        # another provider still counts under the first one's name).
        name = provider_for(request.model).id if self.name == "router" else self.name
        started = time.monotonic()
        first = True
        failed = False
        try:
            async for chunk in self._inner.stream(request):
                if first:
                    metrics.provider_first_chunk(name, time.monotonic() - started)
                    first = False
                yield chunk
            failed = False
        except BaseException as exc:
            # A cancel (the owner's, or a worker stopping) is not the provider's failure.
            failed = not isinstance(exc, GeneratorExit | asyncio.CancelledError)
            raise
        finally:
            metrics.provider_finished(name, time.monotonic() - started, failed=failed)

    async def aclose(self) -> None:
        await self._inner.aclose()
