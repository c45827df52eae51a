"""Real-time factor of each speech engine that can speak on this machine.

`python -m bench.tts` builds the tts service's engines from the environment (TTSSettings:
OPENAI_API_KEY / OPENAI_BASE_URL for `openai`, AION_TTS_VOICES_DIR for more piper voices) and
speaks the same paragraph with each: one warm-up (piper loads its voice then), then `--runs`
timed runs. The real-time factor is synthesis time / audio duration (below 1: faster than
real time); the time covers the engine and the decode to PCM, as in a request, not the final
encoding (`--format` adds that too). Engines that cannot speak here are listed with why.
Nothing is written to the database or the audio store.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from services.tts.audio import PIECE_GAP, duration_of, encode_to, to_pcm
from services.tts.engines import EngineFailed, EngineUnavailable, TTSEngine, build_engines
from services.tts.settings import TTSSettings
from services.tts.text import split_text

TEXT = (
    "Good morning. Your first meeting is at half past nine, with the design team. "
    "It will rain in the afternoon, so take an umbrella when you leave. "
    "Three new messages arrived overnight; none of them looks urgent."
)


async def _once(
    engine: TTSEngine, pieces: list[str], fmt: str | None, timeout: float
) -> tuple[float, float]:
    started = time.perf_counter()
    parts = [
        await to_pcm(await engine.synthesize(p, engine.default_voice), timeout) for p in pieces
    ]
    pcm = PIECE_GAP.join(parts)
    if fmt is not None:
        with tempfile.TemporaryDirectory() as tmp:
            await encode_to(pcm, fmt, Path(tmp) / f"bench.{fmt}", timeout)  # type: ignore[arg-type]
    return time.perf_counter() - started, duration_of(pcm)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--format", choices=["wav", "mp3", "ogg"], default=None)
    args = parser.parse_args()
    # Engines only, no server: nobody calls in, so any credential will do.
    settings = TTSSettings(aion_tts_token=SecretStr(secrets.token_hex(32)))
    pieces = split_text(args.text, settings.aion_tts_chunk_chars)
    timeout = settings.aion_tts_timeout_seconds
    print(f"{len(args.text)} characters in {len(pieces)} piece(s), {args.runs} run(s) each")
    print(f"{'engine':<8} {'voice':<20} {'audio s':>8} {'synth s':>8} {'RTF':>7}  note")
    for name, engine in build_engines(settings).items():
        reason = engine.unavailable_reason()
        if reason is not None:
            print(f"{name:<8} {'-':<20} {'':>8} {'':>8} {'':>7}  unavailable: {reason}")
            continue
        try:
            warm_s, _ = await _once(engine, pieces, args.format, timeout)
            runs = [await _once(engine, pieces, args.format, timeout) for _ in range(args.runs)]
        except (EngineUnavailable, EngineFailed) as exc:
            print(f"{name:<8} {engine.default_voice:<20} {'':>8} {'':>8} {'':>7}  failed: {exc}")
            continue
        synth = statistics.median(t for t, _ in runs)
        audio = runs[0][1]
        rtf = synth / audio
        print(
            f"{name:<8} {engine.default_voice:<20} {audio:>8.2f} {synth:>8.2f} {rtf:>7.3f}"
            f"  first call {warm_s:.2f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
