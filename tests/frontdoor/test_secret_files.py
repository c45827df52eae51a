"""shared/secret_files.py: generated once, kept, each service shown only its own files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from services.api.settings import ApiSettings
from services.sandbox.settings import SandboxSettings
from services.telegram.settings import TelegramSettings
from services.worker.settings import WorkerSettings
from shared.sandbox import token_digest
from shared.secret_files import (
    AUDIENCES,
    LEGACY_POSTGRES_PASSWORD,
    Layout,
    main,
    provision,
    rotate,
)


def files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir() if not p.name.startswith(".")}


def test_first_start_generates_everything_once(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=False)
    first = {service: files(layout.service_dir(service)) for service in AUDIENCES}
    provision(layout, {}, own=False)
    second = {service: files(layout.service_dir(service)) for service in AUDIENCES}
    assert first == second, "a second start must keep every value"
    api = first["api"]
    assert len(api["aion_api_token"]) >= 32
    assert api["database_url"].startswith("postgresql://aion_app:")
    assert first["worker"]["aion_secret_key"] == api["aion_secret_key"]
    assert first["telegram"]["aion_telegram_handover_key"] == api["aion_telegram_handover_key"]
    assert first["migrate"]["database_url"].startswith("postgresql://aion:")
    redis_password = first["redis"]["redis_password"]
    assert first["redis"]["redis.conf"] == f"requirepass {redis_password}\n"
    assert api["redis_url"] == f"redis://:{redis_password}@redis:6379/0"
    assert first["migrate"]["aion_app_db_password"] in api["database_url"]
    assert first["postgres"]["postgres_password"] in first["migrate"]["database_url"]
    store = layout.store
    assert stat.S_IMODE(store.stat().st_mode) == 0o700


def test_each_service_gets_only_what_it_needs(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=False)
    assert set(files(layout.service_dir("telegram"))) == {
        "aion_telegram_service_token",
        "aion_telegram_handover_key",
        "redis_url",
    }
    assert set(files(layout.service_dir("tts"))) == {"aion_tts_token", "database_url"}
    worker = files(layout.service_dir("worker"))
    assert "aion_api_token" not in worker
    assert worker["aion_tts_token"] == files(layout.service_dir("tts"))["aion_tts_token"]
    for service in AUDIENCES:
        for path in layout.service_dir(service).iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path  # the caller's own files


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to other users needs root")
def test_as_root_files_belong_to_their_service(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=True)
    token = layout.service_dir("api") / "aion_api_token"
    assert (token.stat().st_uid, stat.S_IMODE(token.stat().st_mode)) == (10001, 0o400)
    conf = layout.service_dir("redis") / "redis.conf"
    assert (conf.stat().st_uid, stat.S_IMODE(conf.stat().st_mode)) == (0, 0o444)


def test_a_value_given_in_the_environment_wins_and_derived_files_follow(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=False)
    env = {"POSTGRES_PASSWORD": "owner-pw", "AION_API_TOKEN": "t" * 40, "REDIS_PASSWORD": "rpw"}
    provision(layout, env, own=False)
    assert files(layout.service_dir("api"))["aion_api_token"] == "t" * 40
    assert files(layout.service_dir("postgres"))["postgres_password"] == "owner-pw"
    assert ":owner-pw@" in files(layout.service_dir("migrate"))["database_url"]
    assert files(layout.service_dir("worker"))["redis_url"].startswith("redis://:rpw@")


def test_a_database_from_before_keeps_its_old_password(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("16\n")
    layout = Layout(tmp_path / "secrets")
    provision(layout, {}, legacy_pgdata=pgdata, own=False)
    assert files(layout.service_dir("postgres"))["postgres_password"] == LEGACY_POSTGRES_PASSWORD
    fresh = Layout(tmp_path / "fresh")
    provision(fresh, {}, legacy_pgdata=tmp_path / "empty", own=False)
    assert files(fresh.service_dir("postgres"))["postgres_password"] != LEGACY_POSTGRES_PASSWORD


def test_rotation_replaces_one_value_everywhere(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=False)
    before = files(layout.service_dir("api"))
    rotate(layout, "aion_api_token", own=False)
    after = files(layout.service_dir("api"))
    assert after["aion_api_token"] != before["aion_api_token"]
    assert after["aion_secret_key"] == before["aion_secret_key"]
    with pytest.raises(SystemExit, match="cannot rotate"):
        rotate(layout, "postgres_password", own=False)  # fixed into the database volume


def test_dev_profile_leaves_the_stores_to_the_developer(tmp_path: Path) -> None:
    main(["provision", "--root", str(tmp_path), "--profile", "dev"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "api",
        "redis",  # make dev's own Redis takes the generated password from here
        "store",
        "telegram",
        "tts",
        "worker",
    ]
    assert "database_url" not in files(tmp_path / "api")


def test_services_read_their_folder_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=False)
    for name in ("AION_API_TOKEN", "AION_SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AION_SECRETS_DIR", str(layout.service_dir("api")))
    api = ApiSettings()
    generated = files(layout.service_dir("api"))
    assert api.aion_api_token is not None
    assert api.aion_api_token.get_secret_value() == generated["aion_api_token"]
    assert api.database_url == generated["database_url"]
    assert api.vault().available
    monkeypatch.setenv("AION_API_TOKEN", "from-the-environment-" + "x" * 20)
    assert ApiSettings().aion_api_token.get_secret_value().startswith("from-the-environment-")  # type: ignore[union-attr]
    monkeypatch.setenv("AION_SECRETS_DIR", str(layout.service_dir("telegram")))
    telegram = TelegramSettings()
    assert (
        telegram.api_credential
        == files(layout.service_dir("telegram"))["aion_telegram_service_token"]
    )
    assert telegram.handover().available


def test_the_sandbox_holds_only_the_digest_of_the_workers_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = Layout(tmp_path)
    provision(layout, {}, own=False)
    token = files(layout.service_dir("worker"))["aion_sandbox_token"]
    assert len(token) >= 32
    sandbox = files(layout.service_dir("sandbox"))
    assert sandbox == {"aion_sandbox_token_sha256": token_digest(token)}
    # Both ends read their folder: the worker's credential opens the sandbox.
    for name in ("AION_SANDBOX_TOKEN", "AION_SANDBOX_TOKEN_SHA256", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AION_SECRETS_DIR", str(layout.service_dir("sandbox")))
    digest = SandboxSettings().aion_sandbox_token_sha256
    monkeypatch.setenv("AION_SECRETS_DIR", str(layout.service_dir("worker")))
    monkeypatch.setenv("AION_SANDBOX_URL", "http://sandbox:7400")
    worker_token = WorkerSettings().aion_sandbox_token
    assert worker_token is not None and token_digest(worker_token.get_secret_value()) == digest
    rotate(layout, "aion_sandbox_token", own=False)
    rotated = files(layout.service_dir("worker"))["aion_sandbox_token"]
    rotated_digest = files(layout.service_dir("sandbox"))["aion_sandbox_token_sha256"]
    assert rotated_digest == token_digest(rotated)
