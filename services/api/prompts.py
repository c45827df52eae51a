"""The owner's prompts: read (any of the kept revisions) and save; workers use a save next turn."""

from __future__ import annotations

from services.api.broadcast import announce
from services.api.context import AppContext
from services.api.errors import NotFound
from services.api.schemas.config import PromptSaved, PromptView
from shared.control import SettingsChanged
from shared.db import Conn
from shared.db import prompts as repo
from shared.prompts import DEFAULT_PROMPTS, PROMPT_NAMES, canonical_name


def resolve(name: str) -> str:
    canonical = canonical_name(name)
    if canonical is None:
        raise NotFound(f"No prompt '{name}'; the prompts are {', '.join(PROMPT_NAMES)}.")
    return canonical


async def read(conn: Conn, name: str, back: int) -> PromptView:
    canonical = resolve(name)
    saved = await repo.revision(conn, canonical, back)
    if saved is not None:
        content, updated_at = saved.content, saved.created_at.isoformat()
    elif back == 0:
        content, updated_at = DEFAULT_PROMPTS[canonical], None  # never saved: AION's default
    else:
        raise NotFound(f"Prompt '{canonical}' has no revision {back} (up to 19 are kept).")
    return PromptView(name=canonical, content=content, updated_at=updated_at, revision=back)


async def save(ctx: AppContext, conn: Conn, name: str, content: str) -> PromptSaved:
    canonical = resolve(name)
    await repo.save(conn, canonical, content)
    # Prompts are cached with the settings on every worker.
    await announce(ctx, SettingsChanged())  # applied by every live worker when this returns
    return PromptSaved(name=canonical, bytes=len(content.encode()))
