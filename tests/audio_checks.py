"""What makes audio bytes valid, checked by their headers and by ffprobe (not by our code)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def container_of(data: bytes) -> str:
    """The container the bytes' own header says they are."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE" and data[12:16] == b"fmt ":
        return "wav"
    if data[:4] == b"OggS" and b"OpusHead" in data[:128]:
        return "ogg"
    if data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return "unknown"


def probe(path: Path) -> dict[str, str | float | int]:
    """ffprobe's view of a file: container, codec, sample rate, channels, duration."""
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-of", "json"),
            *(
                "-show_entries",
                "format=format_name,duration:stream=codec_name,sample_rate,channels",
            ),
            str(path),
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    info = json.loads(out.stdout)
    stream = info["streams"][0]
    return {
        "format_name": info["format"]["format_name"],
        "duration": float(info["format"]["duration"]),
        "codec": stream["codec_name"],
        "sample_rate": int(stream["sample_rate"]),
        "channels": int(stream["channels"]),
    }
