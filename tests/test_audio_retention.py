"""Audio retention: the worker's cron job removes old audio from disk and DB, nothing else."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import httpx
from arq import create_pool
from arq.connections import RedisSettings

from services.worker.runner import CLEANUP_AUDIO, build_worker
from services.worker.settings import WorkerSettings
from shared.jobs import QUEUE_NAME, deserialize_job, serialize_job
from tests.conftest import TTS_AUTH
from tests.stack import Stack


async def _make(stack: Stack) -> str:
    async with httpx.AsyncClient(base_url=stack.tts_url, headers=TTS_AUTH, timeout=60.0) as speech:
        body = {"text": "Soon forgotten.", "format": "mp3", "engine": "espeak"}
        response = await speech.post("/synthesize", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["file"])


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


async def _run_cleanup(redis_url: str) -> int:
    """Queue the cron job the way arq's scheduler does, and wait for a worker to run it."""
    pool = await create_pool(
        RedisSettings.from_dsn(redis_url),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=QUEUE_NAME,
    )
    try:
        job = await pool.enqueue_job(CLEANUP_AUDIO, _job_id=f"test-cleanup-{uuid.uuid4().hex}")
        assert job is not None
        removed: int = await job.result(timeout=30)
        return removed
    finally:
        await pool.aclose()


async def test_old_audio_leaves_disk_and_db_the_rest_stays(
    client: httpx.AsyncClient,
    tts: Stack,
    audio_dir: Path,
    db,
    redis_url: str,
    fresh_settings: None,
) -> None:
    assert (
        await client.post("/api/config/settings", json={"audio_retention_hours": 2})
    ).status_code == 200
    old, fresh = await _make(tts), await _make(tts)
    await db.execute(
        "UPDATE audio_files SET created_at = now() - interval '3 hours' WHERE file_name = %s",
        (old,),
    )
    _age(audio_dir / old, 3)
    # A file the tts service wrote but never recorded (it crashed), a leftover part file, and
    # an old file that is not audio at all.
    orphan = audio_dir / "orphanorphan01.ogg"
    part = audio_dir / ".partpartpart01.wav.part"
    stranger = audio_dir / "notes.txt"
    young_orphan = audio_dir / "youngorphan001.mp3"
    for path in (orphan, part, stranger, young_orphan):
        path.write_bytes(b"x")
    for path in (orphan, part, stranger):
        _age(path, 5)

    removed = await _run_cleanup(redis_url)

    assert removed >= 3
    assert not (audio_dir / old).exists() and not orphan.exists() and not part.exists()
    assert (audio_dir / fresh).exists() and stranger.exists() and young_orphan.exists()
    names = {
        row[0] for row in await (await db.execute("SELECT file_name FROM audio_files")).fetchall()
    }
    assert old not in names and fresh in names
    assert (await client.get(f"/api/audio/{old}")).status_code == 404
    assert (await client.get(f"/api/audio/{fresh}")).status_code == 200


async def test_retention_is_a_validated_setting(
    client: httpx.AsyncClient, fresh_settings: None
) -> None:
    assert (await client.get("/api/config")).json()["settings"]["audio_retention_hours"] == 72
    for bad in (0, -1, "soon", 24 * 365 + 1):
        response = await client.post("/api/config/settings", json={"audio_retention_hours": bad})
        assert response.status_code == 422 and "audio_retention_hours" in response.json()["detail"]


def test_the_cleanup_is_scheduled_every_quarter_hour() -> None:
    worker = build_worker(WorkerSettings(), burst=True)
    (job,) = [j for j in worker.cron_jobs if j.name == CLEANUP_AUDIO]
    assert job.minute == {0, 15, 30, 45} and job.unique
