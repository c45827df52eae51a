"""`speak(text)`: the model decides to say something aloud; the audio joins the reply."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.worker.tools.context import ToolContext
from services.worker.tools.registry import ToolError, ToolRegistry
from services.worker.voice import SpeechError, speak
from shared.events import AudioBlock
from shared.tts import MAX_TEXT_CHARS, audio_url


class SpeakArguments(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="what to say")


async def speak_tool(ctx: ToolContext, args: SpeakArguments) -> dict[str, Any]:
    if ctx.owner_settings.tts_engine == "off":
        raise ToolError("Speech is turned off (the owner's tts_engine setting is 'off').")
    try:
        result = await speak(ctx.app, args.text, ctx.channel)
    except SpeechError as exc:
        raise ToolError(f"Could not speak: {exc}.") from exc
    ctx.add_block(AudioBlock(url=audio_url(result.file), format=result.format))
    return {"spoken": True, "seconds": round(result.duration, 1), "engine": result.engine}


def register(registry: ToolRegistry) -> None:
    # Neither flag: the text goes to the owner (as audio), through the owner's tts engine, to
    # no destination the model can choose; nothing outlives the turn but the audio file.
    registry.add(
        "speak",
        "Say a text aloud; the owner gets it as audio with your reply. Use it when the owner "
        "asks you to say or read something out loud.",
        SpeakArguments,
        speak_tool,
        timeout=120,
    )
