"""Audio plumbing with ffmpeg: any engine's output → one PCM stream → the asked format.

Every piece is decoded to 16-bit mono PCM at one rate, the pieces are joined in memory, and
the whole is encoded once, so the duration is exact and the formats are the same whatever
engine spoke.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import wave
from pathlib import Path

from shared.tts import AudioFormat

PCM_RATE = 24_000  # Hz, mono, s16le: what OpenAI and piper voices speak at, or near it
_BYTES_PER_SECOND = PCM_RATE * 2
PIECE_GAP = bytes(int(_BYTES_PER_SECOND * 0.15) // 2 * 2)  # a short pause between pieces

_ENCODERS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    # Telegram voice notes: Ogg Opus at 48 kHz.
    "ogg": ["-c:a", "libopus", "-b:a", "32k", "-application", "voip", "-ar", "48000", "-f", "ogg"],
}


class AudioToolError(Exception):
    """ffmpeg (or an engine's program) failed; the message says how, for the log."""


async def run_tool(args: list[str], stdin: bytes | None, time_limit: float) -> bytes:
    """Run a program without blocking the event loop; its stdout, or AudioToolError."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise AudioToolError(f"{args[0]} is not installed") from exc
    try:
        async with asyncio.timeout(time_limit):
            out, err = await proc.communicate(stdin)
    except BaseException:  # timeout or cancellation: never leave the child running
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise AudioToolError(f"{args[0]} exited {proc.returncode}: {' '.join(message[-2:])}")
    return out


async def to_pcm(data: bytes, time_limit: float) -> bytes:
    """Decode any container ffmpeg knows (WAV, MP3, Ogg, ...) to our PCM."""
    pcm = await run_tool(
        [
            *("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", "pipe:0"),
            *("-f", "s16le", "-ac", "1", "-ar", str(PCM_RATE), "pipe:1"),
        ],
        data,
        time_limit,
    )
    return pcm[: len(pcm) // 2 * 2]


def wav_bytes(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def duration_of(pcm: bytes) -> float:
    return round(len(pcm) / _BYTES_PER_SECOND, 3)


async def encode_to(pcm: bytes, fmt: AudioFormat, dest: Path, time_limit: float) -> None:
    """Write `pcm` as `fmt` to `dest` (a file ffmpeg may seek in, for complete headers)."""
    if fmt == "wav":
        await asyncio.to_thread(dest.write_bytes, wav_bytes(pcm))
        return
    await run_tool(
        [
            *("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
            *("-f", "s16le", "-ac", "1", "-ar", str(PCM_RATE), "-i", "pipe:0"),
            *_ENCODERS[fmt],
            str(dest),
        ],
        pcm,
        time_limit,
    )
