"""The sandbox service backend: the `sandbox` container runs each command for the worker.

A small HTTP protocol (shared/sandbox.py) on a network only the worker and the sandbox share,
with the worker's own credential. The service enforces the time limit and kills the command's
process group; closing the connection (the tool's own limit, a cancelled turn) kills it too.
"""

from __future__ import annotations

import httpx

from services.worker.sandbox import SandboxError
from shared.sandbox import RUN_PATH, CommandResult, RunRequest

# Beyond the command's own limit: the service answers as soon as it has killed it.
_GRACE_SECONDS = 10.0


class RemoteSandbox:
    name = "service"

    def __init__(self, url: str, token: str) -> None:
        self._url = url
        # An internal service: never through a proxy from the environment.
        self._http = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=httpx.Timeout(10.0),
        )

    async def run(self, command: str, *, time_limit: float) -> CommandResult:
        body = RunRequest(command=command, timeout_seconds=time_limit)
        try:
            response = await self._http.post(
                RUN_PATH,
                content=body.model_dump_json(),
                headers={"Content-Type": "application/json"},
                timeout=httpx.Timeout(10.0, read=time_limit + _GRACE_SECONDS),
            )
        except httpx.HTTPError as exc:
            raise SandboxError(
                f"the sandbox service ({self._url}) did not answer: {type(exc).__name__}"
            ) from exc
        if response.status_code == 401:
            raise SandboxError(
                "the sandbox service refused the worker's credential: AION_SANDBOX_TOKEN does "
                "not match the sandbox's AION_SANDBOX_TOKEN_SHA256"
            )
        if response.status_code == 429:
            raise SandboxError("the sandbox is running as many commands as it allows; try later")
        if response.status_code != 200:
            raise SandboxError(f"the sandbox service answered HTTP {response.status_code}")
        return CommandResult.model_validate_json(response.content)

    async def aclose(self) -> None:
        await self._http.aclose()
