"""k8s/: each overlay rendered by the real `kubectl kustomize`, every object validated against
the Kubernetes schemas (`kubernetes-validate --strict`, offline), then checked by structure.

kubectl must be on PATH (CI's machine image has it; see k8s/README.md for installing it): without
it these tests fail and say so, they never pass silently. Each structural check also runs on a
broken copy of the render, so a check that cannot fail would be noticed.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from scripts.compose_env import SERVICE_SETTINGS, variable_names
from services.api.settings import ApiSettings
from services.telegram.settings import TelegramSettings
from services.tts.settings import TTSSettings
from services.worker.settings import WorkerSettings
from tests.netpol import Endpoint, allowed, egress_allowed

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "k8s"
OVERLAYS = ("small", "managed")
# The oldest Kubernetes we claim to support (k8s/README.md) and the newest schemas shipped.
KUBE_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
IMAGE = re.compile(r"^ghcr\.io/OWNER/aion-(?P<target>[a-z]+):(?P<tag>[\w.-]+)$")
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")
# `$(NAME)` in an env value, command or args: expanded by Kubernetes (`$$(` escapes it).
ENV_REFERENCE = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
# Set only to build a store URL from (`$(POSTGRES_PASSWORD)`); no settings class reads them.
URL_PARTS = {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
# Secret settings k8s leaves unset on purpose: no `aion_app` role here yet, so the services
# use the migrator's role (migrations/app_role.py does nothing without the password).
NOT_WIRED = {"migrate": {"AION_APP_DB_PASSWORD"}}
WORKLOADS = ("Deployment", "StatefulSet")

Obj = dict[str, Any]


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(
            "kubectl is not on PATH, so k8s/ cannot be rendered and checked. Install it "
            "(Debian/Ubuntu: the `kubectl` package; or a release binary) and run the tests again."
        )
    return found


def render(path: Path) -> list[Obj]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[Obj]]:
    return request.param, render(K8S / "overlays" / request.param)


def find(objs: list[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def pod_specs(objs: list[Obj]) -> Iterator[tuple[str, Obj]]:
    for obj in objs:
        if obj["kind"] in WORKLOADS:
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]


def containers(pod: Obj) -> list[Obj]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def is_ours(container: Obj) -> bool:
    return bool(IMAGE.match(container["image"]))


def port_number(container: Obj, port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container.get("ports", []) if p["name"] == port]
    return int(number)


def secret_settings(settings: type[BaseSettings]) -> set[str]:
    """The variables a settings class reads as secrets (SecretStr fields)."""
    return {
        name.upper()
        for name, field in settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    }


def secret_ref(env: Obj) -> Obj | None:
    ref: Obj | None = env.get("valueFrom", {}).get("secretKeyRef")
    return ref


def config_data(objs: list[Obj]) -> dict[str, str]:
    (config,) = [o for o in objs if o["kind"] == "ConfigMap"]
    data: dict[str, str] = config["data"]
    return data


# --- structural checks: each returns what is wrong, empty when all is well -------------------


def telegram_single_recreate(objs: list[Obj]) -> list[str]:
    telegram = find(objs, "Deployment", "aion-telegram")["spec"]
    problems = []
    if telegram.get("replicas") != 1:
        problems.append(f"telegram replicas={telegram.get('replicas')}")
    if telegram.get("strategy", {}).get("type") != "Recreate":
        problems.append("telegram does not use the Recreate strategy")
    for hpa in (o for o in objs if o["kind"] == "HorizontalPodAutoscaler"):
        if hpa["spec"]["scaleTargetRef"]["name"] == "aion-telegram":
            problems.append("an autoscaler scales telegram")
    return problems


# Where each long-running container of ours answers its probes.
PROBES = {
    "api": {"startupProbe": (7000, "/healthz"), "readinessProbe": (7000, "/readyz"),
            "livenessProbe": (7000, "/healthz")},
    "worker": {"startupProbe": (7300, "/healthz"), "readinessProbe": (7300, "/readyz"),
               "livenessProbe": (7300, "/healthz")},
    "tts": {"startupProbe": (7100, "/healthz"), "readinessProbe": (7100, "/readyz"),
            "livenessProbe": (7100, "/healthz")},
    "telegram": {"startupProbe": (7200, "/healthz"), "readinessProbe": (7200, "/healthz"),
                 "livenessProbe": (7200, "/healthz")},
    "sandbox": {"startupProbe": (7400, "/healthz"), "readinessProbe": (7400, "/healthz"),
                "livenessProbe": (7400, "/healthz")},
}  # fmt: skip
# The Dockerfile's users: every image runs as `aion`, the sandbox as a uid of its own.
IMAGE_UIDS = {"sandbox": 10002}


def probes_present(objs: list[Obj]) -> list[str]:
    problems = []
    for name, pod in pod_specs(objs):
        for container in pod["containers"]:
            for kind in ("readinessProbe", "livenessProbe"):
                if kind not in container:
                    problems.append(f"{name}/{container['name']} has no {kind}")
            for kind, (port, path) in PROBES.get(container["name"], {}).items():
                probe = container.get(kind, {}).get("httpGet")
                if probe is None:
                    problems.append(f"{name}/{container['name']} has no HTTP {kind}")
                elif (port_number(container, probe["port"]), probe["path"]) != (port, path):
                    problems.append(f"{name}/{container['name']} {kind} is not {path} on {port}")
    return problems


def non_root_read_only(objs: list[Obj]) -> list[str]:
    problems = []
    for name, pod in pod_specs(objs):
        pod_ctx = pod.get("securityContext", {})
        if pod_ctx.get("runAsNonRoot") is not True:
            problems.append(f"{name} may run as root")
        for container in pod["containers"]:
            match = IMAGE.match(container["image"])
            uid = IMAGE_UIDS.get(match["target"], 10001) if match else None
            if uid is not None and pod_ctx.get("runAsUser") != uid:
                problems.append(f"{name} does not run as uid {uid} (the Dockerfile's user)")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name} mounts a service account token it never uses")
        for container in containers(pod):
            ctx = container.get("securityContext", {})
            where = f"{name}/{container['name']}"
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where} allows privilege escalation")
            if ctx.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where} keeps Linux capabilities")
            if is_ours(container):
                if ctx.get("readOnlyRootFilesystem") is not True:
                    problems.append(f"{where} has a writable root file system")
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                volumes = {v["name"]: v for v in pod.get("volumes", [])}
                if "emptyDir" not in volumes.get(mounts.get("/tmp", ""), {}):
                    problems.append(f"{where} has no emptyDir at /tmp")
    return problems


def no_plaintext_secrets(objs: list[Obj]) -> list[str]:
    problems = [
        f"Secret/{o['metadata']['name']} is part of the manifests"
        for o in objs
        if o["kind"] == "Secret"
    ]
    problems += [
        f"ConfigMap key {k} looks secret" for k in config_data(objs) if SECRET_NAME.search(k)
    ]
    for name, pod in pod_specs(objs):
        for container in containers(pod):
            for env in container.get("env", []):
                value = env.get("value")
                if value is None:
                    continue
                if SECRET_NAME.search(env["name"]):
                    problems.append(f"{name}: {env['name']} has a literal value")
                # user:password@ in a URL must be a reference to a secret-backed variable
                for password in re.findall(r"://[^:/@]*:([^@]+)@", value):
                    if not re.fullmatch(r"\$\([A-Z_]+\)", password):
                        problems.append(f"{name}: {env['name']} holds a password")
    return problems


def resources_bounded(objs: list[Obj]) -> list[str]:
    problems = []
    for name, pod in pod_specs(objs):
        for container in containers(pod):
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    if what not in resources.get(part, {}):
                        problems.append(f"{name}/{container['name']} has no {part}.{what}")
    return problems


def migrations_run_first(objs: list[Obj]) -> list[str]:
    problems = []
    for name in ("aion-api", "aion-worker"):
        pod = find(objs, "Deployment", name)["spec"]["template"]["spec"]
        init = [c for c in pod.get("initContainers", []) if c["name"] == "migrate"]
        if not init:
            problems.append(f"{name} starts without applying the migrations first")
            continue
        app_tag = pod["containers"][0]["image"].rsplit(":", 1)[-1]
        if init[0]["image"] != f"ghcr.io/OWNER/aion-migrate:{app_tag}":
            problems.append(f"{name} migrates with {init[0]['image']}, not its own release")
    return problems


def images_of_one_release(objs: list[Obj]) -> list[str]:
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", (REPO / "Dockerfile").read_text(), re.M))
    problems, tags = [], set()
    for name, pod in pod_specs(objs):
        for container in containers(pod):
            match = IMAGE.match(container["image"])
            if match is None:
                if "ghcr.io/OWNER" in container["image"]:
                    problems.append(f"{name}: {container['image']} has no tag")
                continue
            if match["target"] not in targets:
                problems.append(f"{name}: no Dockerfile target {match['target']}")
            tags.add(match["tag"])
    if len(tags) != 1 or "latest" in tags:
        problems.append(f"images are not one pinned release: tags {sorted(tags)}")
    return problems


def ingress_streams_sse(objs: list[Obj]) -> list[str]:
    ingress = find(objs, "Ingress", "aion")
    notes = ingress["metadata"].get("annotations", {})
    problems = []
    if notes.get("nginx.ingress.kubernetes.io/proxy-buffering") != "off":
        problems.append("the ingress buffers responses (SSE events would be held back)")
    if int(notes.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")) < 300:
        problems.append("the ingress read timeout is too short for long turns")
    backends = [
        p["backend"]["service"]["name"]
        for r in ingress["spec"]["rules"]
        for p in r["http"]["paths"]
    ]
    if backends != ["aion-api"]:
        problems.append(f"the ingress routes to {backends}")
    return problems


def drain_fits_grace_period(objs: list[Obj]) -> list[str]:
    config = config_data(objs)
    problems = []
    api = find(objs, "Deployment", "aion-api")["spec"]["template"]["spec"]
    pre_stop = api["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    budget = int(pre_stop[-1]) + float(config["AION_API_DRAIN_SECONDS"])
    if api["terminationGracePeriodSeconds"] <= budget:
        problems.append("api: preStop + AION_API_DRAIN_SECONDS exceed the grace period")
    worker = find(objs, "Deployment", "aion-worker")["spec"]["template"]["spec"]
    if worker["terminationGracePeriodSeconds"] <= int(config["AION_WORKER_DRAIN_SECONDS"]):
        problems.append("worker: AION_WORKER_DRAIN_SECONDS exceeds the grace period")
    return problems


def scaling_and_disruption(objs: list[Obj]) -> list[str]:
    problems = []
    for name, replicas in (("aion-api", 2), ("aion-worker", 2)):
        if find(objs, "Deployment", name)["spec"]["replicas"] != replicas:
            problems.append(f"{name} does not run {replicas} replicas")
    pdbs = {o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: o["spec"]
            for o in objs if o["kind"] == "PodDisruptionBudget"}  # fmt: skip
    for name in ("aion-api", "aion-worker"):
        if pdbs.get(name, {}).get("minAvailable") != 1:
            problems.append(f"{name} has no PodDisruptionBudget keeping one pod")
    hpa = find(objs, "HorizontalPodAutoscaler", "aion-worker")["spec"]
    if (
        hpa["scaleTargetRef"]["name"] != "aion-worker"
        or hpa["metrics"][0]["resource"]["name"] != "cpu"
    ):
        problems.append("the worker autoscaler does not scale aion-worker on CPU")
    return problems


def references_resolve(objs: list[Obj]) -> list[str]:
    """Services select pods and name their ports; config maps and PVCs exist; one Secret."""
    problems = []
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    pods = [(o["spec"]["template"]["metadata"]["labels"], o["spec"]["template"]["spec"])
            for o in objs if o["kind"] in WORKLOADS]  # fmt: skip
    for svc in (o for o in objs if o["kind"] == "Service"):
        selector = svc["spec"]["selector"]
        chosen = [spec for labels, spec in pods if selector.items() <= labels.items()]
        if not chosen:
            problems.append(f"Service/{svc['metadata']['name']} selects no pod")
        ports = {p.get("name") for spec in chosen for c in spec["containers"] for p in c["ports"]}
        for port in svc["spec"]["ports"]:
            if isinstance(port["targetPort"], str) and port["targetPort"] not in ports:
                problems.append(f"Service/{svc['metadata']['name']} targets no port {port}")
    for name, pod in pod_specs(objs):
        for volume in pod.get("volumes", []):
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim and ("PersistentVolumeClaim", claim) not in names:
                problems.append(f"{name} mounts a missing claim {claim}")
        for container in containers(pod):
            refs = list(container.get("envFrom", []))
            refs += [e["valueFrom"] for e in container.get("env", []) if "valueFrom" in e]
            for ref in refs:
                config = ref.get("configMapRef") or ref.get("configMapKeyRef")
                if config and ("ConfigMap", config["name"]) not in names:
                    problems.append(f"{name} uses a missing ConfigMap {config['name']}")
                elif config and "key" in config and config["key"] not in config_data(objs):
                    problems.append(f"{name} reads a missing config key {config['key']}")
                secret = ref.get("secretRef") or ref.get("secretKeyRef")
                if secret and secret["name"] != "aion-secrets":
                    problems.append(f"{name} uses a Secret other than aion-secrets")
    return problems


def config_names_are_settings(objs: list[Obj]) -> list[str]:
    """Every ConfigMap key is a setting some service reads, or one compose passes too
    (ARCHITECTURE.md's names that features read later): a typo would silently do nothing."""
    known = {
        field.upper()
        for cls in (ApiSettings, WorkerSettings, TTSSettings, TelegramSettings)
        for field in cls.model_fields
    }
    compose = (REPO / "docker-compose.yml").read_text()
    known |= set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", compose, re.M))
    return [
        f"ConfigMap key {key} is no service's setting"
        for key in config_data(objs)
        if key not in known
    ]


def secrets_where_read(objs: list[Obj]) -> list[str]:
    """Each of our containers names the Secret's keys its settings class reads as secrets, all
    of them, and no other (no whole-Secret envFrom): a worker running the model's tool calls
    holds neither the owner's token nor the bot token, the api not the sandbox's credential.
    The class is its image's (the sandbox's init container runs the sandbox image)."""
    problems = []
    for name, pod in pod_specs(objs):
        for container in filter(is_ours, containers(pod)):
            where = f"{name}/{container['name']}"
            match = IMAGE.match(container["image"])
            assert match is not None  # is_ours
            target = match["target"]
            settings = SERVICE_SETTINGS[target]
            if any("secretRef" in ref for ref in container.get("envFrom", [])):
                problems.append(f"{where} loads the whole Secret")
            env = container.get("env", [])
            expanded = {ref for e in env for ref in ENV_REFERENCE.findall(e.get("value", ""))}
            wired = set()
            for entry in env:
                if (ref := secret_ref(entry)) is None:
                    continue
                if ref["key"] != entry["name"]:
                    problems.append(f"{where}: {entry['name']} holds the key {ref['key']}")
                if entry["name"] in variable_names(settings):
                    wired.add(entry["name"])
                elif entry["name"] not in URL_PARTS or entry["name"] not in expanded:
                    problems.append(f"{where} gets {entry['name']}, which it never reads")
            missing = secret_settings(settings) - wired - NOT_WIRED.get(target, set())
            problems += [f"{where} cannot get {key} from the Secret" for key in sorted(missing)]
    return problems


# Never in the worker, whatever its settings class comes to read (issue 16): the owner's token,
# the bot token, the telegram service's credential and handover key, the sandbox's digest (the
# worker holds the sandbox credential itself).
NOT_FOR_THE_WORKER = {
    "AION_API_TOKEN",
    "TELEGRAM_BOT_TOKEN",
    "AION_TELEGRAM_SERVICE_TOKEN",
    "AION_TELEGRAM_HANDOVER_KEY",
    "AION_SANDBOX_TOKEN_SHA256",
}


def worker_holds_no_credential_of_others(objs: list[Obj]) -> list[str]:
    pod = find(objs, "Deployment", "aion-worker")["spec"]["template"]["spec"]
    problems = []
    for container in containers(pod):
        where = f"aion-worker/{container['name']}"
        if any("secretRef" in ref for ref in container.get("envFrom", [])):
            problems.append(f"{where} loads the whole Secret")
        for entry in container.get("env", []):
            names = {entry["name"], (secret_ref(entry) or {}).get("key")}
            for forbidden in sorted(names & NOT_FOR_THE_WORKER):
                problems.append(f"{where} gets {forbidden}")
    return problems


def env_references_resolve(objs: list[Obj]) -> list[str]:
    """`$(NAME)` expands only to a variable defined before it in the same container; anything
    else stays in the value as written (a URL with a literal `$(...)` for its password)."""
    config = set(config_data(objs))
    problems = []
    for name, pod in pod_specs(objs):
        for container in containers(pod):
            where = f"{name}/{container['name']}"
            defined = {
                key
                for ref in container.get("envFrom", [])
                if "configMapRef" in ref
                for key in config
            }
            for entry in container.get("env", []):
                for ref in ENV_REFERENCE.findall(entry.get("value", "")):
                    if ref not in defined:
                        problems.append(f"{where}: {entry['name']} uses $({ref}) before it is set")
                defined.add(entry["name"])
            for word in [*container.get("command", []), *container.get("args", [])]:
                for ref in ENV_REFERENCE.findall(word):
                    if ref not in defined:
                        problems.append(f"{where}: its command uses an unset $({ref})")
    return problems


def sandbox_isolated(objs: list[Obj]) -> list[str]:
    """The sandbox runs untrusted commands: a uid of its own, no service links, no secret but
    its credential's digest, only the workspace (its network: sandbox_confined)."""
    problems = []
    pod = find(objs, "Deployment", "aion-sandbox")["spec"]["template"]["spec"]
    worker = find(objs, "Deployment", "aion-worker")["spec"]["template"]["spec"]
    if pod["securityContext"].get("runAsUser") in (None, 0, worker["securityContext"]["runAsUser"]):
        problems.append("the sandbox does not run as a uid of its own")
    if pod.get("enableServiceLinks") is not False:
        problems.append("the sandbox gets every Service's address in its environment")
    (container,) = pod["containers"]
    if container.get("envFrom"):
        problems.append("the sandbox loads whole ConfigMaps or Secrets")
    secret_keys = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    if secret_keys != {"AION_SANDBOX_TOKEN_SHA256"}:
        problems.append(f"the sandbox reads {sorted(secret_keys)} from the Secret")
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            continue
        if (mount["mountPath"], mount.get("subPath")) != ("/data/workspace", "workspace"):
            problems.append(f"the sandbox mounts {mount['name']} at {mount['mountPath']}")
    return problems


# --- who may connect to whom: the rendered NetworkPolicies in a small model (tests/netpol.py) --

NAMESPACE = "aion"
# What surrounds AION's pods (which, the sandbox among them, come from the rendered workloads
# with their own labels and ports): the ingress controller, a Prometheus, another application's
# pod, the cluster DNS, the internet, the cloud metadata endpoint and managed stores in a
# provider's VPC.
AROUND = (
    Endpoint("ingress-controller", "10.244.9.2", "ingress-nginx",
             {"app.kubernetes.io/name": "ingress-nginx"}),
    Endpoint("prometheus", "10.244.9.3", "monitoring", {"app.kubernetes.io/name": "prometheus"}),
    Endpoint("stranger", "10.244.9.4", "default", {"app": "stranger"}),
    Endpoint("kube-dns", "10.244.9.5", "kube-system", {"k8s-app": "kube-dns"}),
    Endpoint("internet", "203.0.113.7"),
    Endpoint("metadata", "169.254.169.254"),
    Endpoint("managed-postgres", "10.20.0.5"),
    Endpoint("managed-redis", "10.20.0.6"),
)  # fmt: skip
STORE_CLIENTS = {
    "postgres": (5432, {"aion-api", "aion-worker", "aion-tts"}),
    "redis": (6379, {"aion-api", "aion-worker", "aion-telegram"}),
}
# Who calls whom through a URL of aion-config: (client, setting, the pod it must lead to).
SERVICE_URLS = (
    ("aion-worker", "AION_TTS_URL", "aion-tts"),
    ("aion-worker", "AION_SANDBOX_URL", "aion-sandbox"),
    ("aion-telegram", "AION_API_URL", "aion-api"),
)


def network(objs: list[Obj]) -> tuple[list[Obj], dict[str, Endpoint]]:
    """The rendered policies, and every endpoint by name: the rendered pods and AROUND."""
    world = {e.name: e for e in AROUND}
    workloads = [o for o in objs if o["kind"] in WORKLOADS]
    for number, obj in enumerate(workloads, start=1):
        template, name = obj["spec"]["template"], obj["metadata"]["name"]
        ports = {p["name"]: p["containerPort"]
                 for c in template["spec"]["containers"] for p in c.get("ports", [])}  # fmt: skip
        world[name] = Endpoint(
            name, f"10.244.0.{number}", obj["metadata"]["namespace"],
            template["metadata"]["labels"], ports,
        )  # fmt: skip
    return [o for o in objs if o["kind"] == "NetworkPolicy"], world


def store(world: dict[str, Endpoint], kind: str) -> Endpoint:
    """The in-cluster store (small), or the managed one outside the cluster."""
    return world.get(f"aion-{kind}") or world[f"managed-{kind}"]


def via_service(objs: list[Obj], world: dict[str, Endpoint], setting: str) -> tuple[Endpoint, int]:
    """The pod and container port a URL of aion-config lands on through its Service."""
    url = urlsplit(config_data(objs)[setting])
    services = [o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == url.hostname]
    if len(services) != 1:
        raise LookupError(f"{setting} names no Service of ours ({url.hostname})")
    spec = services[0]["spec"]
    entries = [p for p in spec["ports"] if p["port"] == url.port]
    pods = [
        e
        for e in world.values()
        if e.namespace == NAMESPACE and spec["selector"].items() <= e.labels.items()
    ]
    if len(entries) != 1 or len(pods) != 1:
        raise LookupError(f"{setting}: Service {url.hostname} leads to no one pod on {url.port}")
    target = entries[0].get("targetPort", url.port)
    port = pods[0].ports.get(target) if isinstance(target, str) else target
    if port is None:
        raise LookupError(f"{setting}: {pods[0].name} has no port {target}")
    return pods[0], int(port)


def reaching(
    policies: list[Obj], world: dict[str, Endpoint], target: Endpoint, port: int
) -> set[str]:
    """Who may connect to `target`; for a target outside the cluster, only our pods count (the
    others' egress is not ours to govern)."""
    ours = target.namespace == NAMESPACE
    return {
        e.name
        for e in world.values()
        if e != target and (ours or e.namespace == NAMESPACE) and allowed(policies, e, target, port)
    }


def default_deny_everywhere(objs: list[Obj]) -> list[str]:
    """One policy selects every pod of the namespace (today's and later ones) for both
    directions and allows nothing; nothing gets in or out on a port no rule names."""
    policies, world = network(objs)
    problems = [
        f"NetworkPolicy/{p['metadata']['name']} is outside the namespace"
        for p in policies
        if p["metadata"].get("namespace") != NAMESPACE
    ]
    deny_all = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not deny_all:
        problems.append("no policy denies every pod both ways by default")
    stranger = world["stranger"]
    for pod in (e for e in world.values() if e.namespace == NAMESPACE):
        if allowed(policies, stranger, pod, 9999) or allowed(policies, pod, stranger, 9999):
            problems.append(f"{pod.name} talks to another namespace on an unlisted port")
    return problems


def stores_take_only_their_clients(objs: list[Obj]) -> list[str]:
    policies, world = network(objs)
    problems = []
    for kind, (port, clients) in STORE_CLIENTS.items():
        got = reaching(policies, world, store(world, kind), port)
        if got != clients:
            problems.append(f"{kind} is reached by {sorted(got)}, not {sorted(clients)}")
    return problems


def telegram_never_reaches_the_database(objs: list[Obj]) -> list[str]:
    policies, world = network(objs)
    public = Endpoint("public-postgres", "198.51.100.9")
    return [
        f"telegram reaches PostgreSQL at {target.ip}"
        for target in (store(world, "postgres"), public)
        if allowed(policies, world["aion-telegram"], target, 5432)
    ]


def tts_only_from_the_worker(objs: list[Obj]) -> list[str]:
    policies, world = network(objs)
    got = reaching(policies, world, world["aion-tts"], 7100)
    return [] if got == {"aion-worker"} else [f"tts is reached by {sorted(got)}"]


def sandbox_confined(objs: list[Obj]) -> list[str]:
    """The rendered sandbox Deployment, by its own labels and ports: only the worker reaches
    it, and only on the port it serves; it reaches nothing, not a store, an AION service,
    another pod, the cluster DNS, the cloud metadata nor the internet (offline, as compose runs
    it unless AION_SANDBOX_OFFLINE=false). Exactly one policy is its own, and that one holds all
    of this by itself, without aion-default-deny; the worker's side sends only to that port."""
    policies, world = network(objs)
    sandbox = world.get("aion-sandbox")
    if sandbox is None:
        return ["no aion-sandbox Deployment is rendered"]
    own = [
        p
        for p in policies
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
        == "aion-sandbox"
    ]
    problems = [] if len(own) == 1 else [f"{len(own)} NetworkPolicies are the sandbox's own"]
    served = set(sandbox.ports.values())
    for port in sorted({22, 8080} - served):
        if egress_allowed(policies, world["aion-worker"], sandbox, port):
            problems.append(f"the worker may send to the sandbox on {port}")
    for alone, chosen in (("", policies), (" by its own policy alone", own)):
        for port in sorted(served | {22, 8080}):
            got = reaching(chosen, world, sandbox, port)
            if got != ({"aion-worker"} if port in served else set()):
                problems.append(f"the sandbox is reached on {port} by {sorted(got)}{alone}")
        for target in (e for e in world.values() if e != sandbox):
            for port in sorted({*target.ports.values(), 53, 80, 443, 5432, 6379}):
                for protocol in ("TCP", "UDP"):
                    if allowed(chosen, sandbox, target, port, protocol):
                        problems.append(
                            f"the sandbox reaches {target.name} on {port}/{protocol}{alone}"
                        )
    return problems


def cloud_metadata_unreachable(objs: list[Obj]) -> list[str]:
    policies, world = network(objs)
    return [
        f"{pod.name} reaches the cloud metadata endpoint"
        for pod in world.values()
        if pod.namespace == NAMESPACE and allowed(policies, pod, world["metadata"], 80)
    ]


def app_flows_pass(objs: list[Obj]) -> list[str]:
    """What AION needs still passes: the policies do not cut the app off. Calls between our
    services follow the URL the caller is given, through its Service, to the pod's port."""
    policies, world = network(objs)
    problems = []
    flows = [
        ("ingress-controller", world["aion-api"], 7000),
        ("aion-api", world["internet"], 443),
        ("aion-worker", world["internet"], 443),
        ("aion-worker", world["internet"], 11434),
        ("aion-tts", world["internet"], 443),
        ("aion-telegram", world["internet"], 443),
    ]
    for source, setting, name in SERVICE_URLS:
        try:
            target, port = via_service(objs, world, setting)
        except LookupError as e:
            problems.append(str(e))
            continue
        if target.name != name:
            problems.append(f"{setting} leads to {target.name}, not {name}")
        flows.append((source, target, port))
    for kind, (port, clients) in STORE_CLIENTS.items():
        flows += [(client, store(world, kind), port) for client in sorted(clients)]
    problems += [
        f"{source} cannot reach {target.name} on {port}"
        for source, target, port in flows
        if not allowed(policies, world[source], target, port)
    ]
    # Every pod but the sandbox, which looks nothing up (sandbox_confined).
    for pod in (e for e in world.values() if e.namespace == NAMESPACE):
        if pod.name == "aion-sandbox":
            continue
        for protocol in ("UDP", "TCP"):
            if not allowed(policies, pod, world["kube-dns"], 53, protocol):
                problems.append(f"{pod.name} cannot look names up over {protocol}")
    return problems


CHECKS: dict[str, Callable[[list[Obj]], list[str]]] = {
    f.__name__: f
    for f in (
        telegram_single_recreate,
        probes_present,
        non_root_read_only,
        no_plaintext_secrets,
        resources_bounded,
        migrations_run_first,
        images_of_one_release,
        ingress_streams_sse,
        drain_fits_grace_period,
        scaling_and_disruption,
        references_resolve,
        config_names_are_settings,
        secrets_where_read,
        worker_holds_no_credential_of_others,
        env_references_resolve,
        sandbox_isolated,
        default_deny_everywhere,
        stores_take_only_their_clients,
        telegram_never_reaches_the_database,
        tts_only_from_the_worker,
        sandbox_confined,
        cloud_metadata_unreachable,
        app_flows_pass,
    )
}


# For each check, a change to the rendered objects that it must catch.
def _deployment(objs: list[Obj], name: str) -> Obj:
    return find(objs, "Deployment", name)


def _first(objs: list[Obj], name: str) -> Obj:
    return dict(_deployment(objs, name)["spec"]["template"]["spec"]["containers"][0])


def _set(objs: list[Obj], name: str, **fields: Any) -> None:
    _deployment(objs, name)["spec"]["template"]["spec"]["containers"][0].update(fields)


def _open(objs: list[Obj], *names: str) -> None:
    """A policy letting everything into and out of the named pods."""
    for name in names:
        objs.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"open-{name}", "namespace": NAMESPACE},
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "policyTypes": ["Ingress", "Egress"], "ingress": [{}], "egress": [{}]},
        })  # fmt: skip


BREAKAGES: dict[str, Callable[[list[Obj]], None]] = {
    "telegram_single_recreate": lambda o: _deployment(o, "aion-telegram")["spec"].update(
        strategy={"type": "RollingUpdate"}
    ),
    "probes_present": lambda o: _set(
        o, "aion-api", readinessProbe={"httpGet": {"path": "/healthz", "port": "http"}}
    ),
    "non_root_read_only": lambda o: _set(
        o,
        "aion-worker",
        securityContext={
            **_first(o, "aion-worker")["securityContext"],
            "readOnlyRootFilesystem": False,
        },
    ),
    "no_plaintext_secrets": lambda o: _set(
        o, "aion-api", env=[{"name": "AION_API_TOKEN", "value": "hunter2hunter2"}]
    ),
    "resources_bounded": lambda o: _set(o, "aion-tts", resources={"requests": {"cpu": "1m"}}),
    "migrations_run_first": lambda o: _deployment(o, "aion-worker")["spec"]["template"]["spec"].pop(
        "initContainers"
    ),
    "images_of_one_release": lambda o: _set(o, "aion-tts", image="ghcr.io/OWNER/aion-tts:latest"),
    "ingress_streams_sse": lambda o: find(o, "Ingress", "aion")["metadata"]["annotations"].pop(
        "nginx.ingress.kubernetes.io/proxy-buffering"
    ),
    "drain_fits_grace_period": lambda o: _deployment(o, "aion-worker")["spec"]["template"][
        "spec"
    ].update(terminationGracePeriodSeconds=30),
    "scaling_and_disruption": lambda o: _deployment(o, "aion-api")["spec"].update(replicas=1),
    "references_resolve": lambda o: find(o, "Service", "aion-tts")["spec"].update(
        selector={"app.kubernetes.io/name": "aion-tts-typo"}
    ),
    "config_names_are_settings": lambda o: config_data(o).update(AION_WORKER_DRAIN_SECOND="5"),
    "secrets_where_read": lambda o: _first(o, "aion-telegram")["env"].append(
        {
            "name": "AION_SECRET_KEY",
            "valueFrom": {"secretKeyRef": {"name": "aion-secrets", "key": "AION_SECRET_KEY"}},
        }
    ),
    "worker_holds_no_credential_of_others": lambda o: _first(o, "aion-worker")["envFrom"].append(
        {"secretRef": {"name": "aion-secrets"}}
    ),
    "default_deny_everywhere": lambda o: find(o, "NetworkPolicy", "aion-default-deny")[
        "spec"
    ].update(policyTypes=["Ingress"]),
    "stores_take_only_their_clients": lambda o: _open(o, "aion-telegram", "aion-postgres"),
    "telegram_never_reaches_the_database": lambda o: _open(o, "aion-telegram", "aion-postgres"),
    "tts_only_from_the_worker": lambda o: _open(o, "aion-tts"),
    "sandbox_confined": lambda o: _open(o, "aion-sandbox"),
    "cloud_metadata_unreachable": lambda o: _open(o, "aion-worker"),
    "app_flows_pass": lambda o: o.remove(find(o, "NetworkPolicy", "aion-dns")),
    "sandbox_isolated": lambda o: _deployment(o, "aion-sandbox")["spec"]["template"]["spec"][
        "containers"
    ][0]["volumeMounts"][0].pop("subPath"),
    "env_references_resolve": lambda o: _first(o, "aion-api")["env"].insert(
        0, {"name": "DATABASE_URL", "value": "postgresql://aion:$(PGPASSWORD)@db:5432/aion"}
    ),
}


# --- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_every_object_validates_strictly(overlay: tuple[str, list[Obj]], version: str) -> None:
    name, objs = overlay
    failures = []
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {e}")
    assert failures == [], f"{name} on Kubernetes {version}"


def test_validation_rejects_an_unknown_field(overlay: tuple[str, list[Obj]]) -> None:
    """The validator is strict: a misspelt field is an error, not ignored."""
    broken = copy.deepcopy(find(overlay[1], "Deployment", "aion-api"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_structure(overlay: tuple[str, list[Obj]], check: str) -> None:
    assert CHECKS[check](overlay[1]) == []


@pytest.mark.parametrize("check", sorted(BREAKAGES))
def test_structure_check_catches_a_broken_render(
    overlay: tuple[str, list[Obj]], check: str
) -> None:
    broken = copy.deepcopy(overlay[1])
    BREAKAGES[check](broken)
    assert CHECKS[check](broken) != []


def test_small_runs_the_stores_in_the_cluster() -> None:
    objs = render(K8S / "overlays" / "small")
    postgres = find(objs, "StatefulSet", "aion-postgres")["spec"]
    container = postgres["template"]["spec"]["containers"][0]
    assert container["image"] == "pgvector/pgvector:pg16"
    assert "shared_buffers=512MB" in container["args"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in postgres["template"]["spec"]["volumes"]}
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"
    assert postgres["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    redis = find(objs, "Deployment", "aion-redis")["spec"]["template"]["spec"]
    assert redis["volumes"][0]["persistentVolumeClaim"]["claimName"] == "aion-redis-data"
    for name in ("aion-api", "aion-worker", "aion-tts"):
        env = {e["name"]: e for e in _first(objs, name)["env"]}
        assert (
            env["DATABASE_URL"]["value"]
            == "postgresql://aion:$(POSTGRES_PASSWORD)@aion-postgres:5432/aion"
        )


def test_small_redis_requires_its_password() -> None:
    """Redis starts with `requirepass` from the Secret, kept off its command line; the probes
    authenticate, and every client's REDIS_URL carries the password (tts has none)."""
    objs = render(K8S / "overlays" / "small")
    pod = find(objs, "Deployment", "aion-redis")["spec"]["template"]["spec"]
    (redis,) = pod["containers"]
    command = "\n".join([*redis.get("command", []), *redis.get("args", [])])
    assert "requirepass %s" in command and '"${REDIS_PASSWORD:?' in command
    assert "$(REDIS_PASSWORD)" not in command and "--requirepass" not in command
    env = {e["name"]: e for e in redis["env"]}
    assert secret_ref(env["REDIS_PASSWORD"]) == {"name": "aion-secrets", "key": "REDIS_PASSWORD"}
    assert env["REDISCLI_AUTH"]["value"] == "$(REDIS_PASSWORD)"
    for probe in ("readinessProbe", "livenessProbe"):
        assert redis[probe]["exec"]["command"][-1] == "redis-cli ping | grep -q PONG"
    mounts = {m["mountPath"]: m["name"] for m in redis["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/run/redis"]]["emptyDir"]["medium"] == "Memory"
    assert "REDIS_URL" not in config_data(objs)
    for name in ("aion-api", "aion-worker", "aion-telegram"):
        env = {e["name"]: e for e in _first(objs, name)["env"]}
        assert env["REDIS_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@aion-redis:6379/0"
    assert not any(e["name"].startswith("REDIS") for e in _first(objs, "aion-tts")["env"])


def test_managed_takes_the_store_urls_from_the_secret() -> None:
    objs = render(K8S / "overlays" / "managed")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objs}
    assert ("StatefulSet", "aion-postgres") not in kinds
    assert ("Deployment", "aion-redis") not in kinds
    assert "REDIS_URL" not in config_data(objs)
    for name in ("aion-api", "aion-worker"):
        pod = _deployment(objs, name)["spec"]["template"]["spec"]
        for container in containers(pod):
            env = {e["name"]: e for e in container["env"]}
            ref = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "aion-secrets", "key": "DATABASE_URL"}


@pytest.mark.parametrize("name", OVERLAYS)
def test_readme_creates_every_secret_key_the_overlay_needs(name: str) -> None:
    """The documented `kubectl create secret` is enough for the pods to start."""
    objs = render(K8S / "overlays" / name)
    required = {
        ref["key"]
        for _, pod in pod_specs(objs)
        for c in containers(pod)
        for e in c.get("env", [])
        if (ref := e.get("valueFrom", {}).get("secretKeyRef")) and not ref.get("optional")
    }
    readme = (K8S / "README.md").read_text()
    block = re.search(rf"<!-- secret:{name} -->\n```bash\n(.*?)```", readme, re.S)
    assert block, f"k8s/README.md has no secret block for {name}"
    documented = set(re.findall(r"--from-literal=([A-Z0-9_]+)=", block[1]))
    assert required <= documented, f"undocumented keys: {required - documented}"


def _policy(selector: Obj, types: list[str], **rules: list[Obj]) -> Obj:
    spec = {"podSelector": selector, "policyTypes": types, **rules}
    return {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "ns"}, "spec": spec}


def test_the_policy_model_follows_kubernetes() -> None:
    """tests/netpol.py on the cases the checks above lean on."""
    a = Endpoint("a", "10.0.0.1", "ns", {"app": "a"}, {"web": 8080})
    b = Endpoint("b", "10.0.0.2", "other", {"app": "b"})
    public, blocked = Endpoint("public", "1.1.1.1"), Endpoint("blocked", "8.8.8.8")
    assert allowed([], a, b, 1), "a pod no policy selects is open"
    deny = _policy({}, ["Ingress", "Egress"])
    assert not allowed([deny], a, public, 443)
    assert not allowed([deny], b, a, 8080)
    in_other = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}
    for labels, expected in (({"app": "b"}, True), ({"app": "x"}, False)):
        # namespaceSelector and podSelector in one peer: both must match; `web` is a's 8080
        peer = {**in_other, "podSelector": {"matchLabels": labels}}
        ingress = [{"from": [peer], "ports": [{"port": "web"}]}]
        policy = _policy({"matchLabels": {"app": "a"}}, ["Ingress"], ingress=ingress)
        assert allowed([policy], b, a, 8080) is expected
        assert not allowed([policy], b, a, 8081)
    block = {"cidr": "0.0.0.0/0", "except": ["8.8.0.0/16"]}
    egress = [{"to": [{"ipBlock": block}], "ports": [{"port": 400, "endPort": 500}]}]
    policy = _policy({}, ["Egress"], egress=egress)
    assert allowed([policy], a, public, 443)
    assert not allowed([policy], a, public, 501)
    assert not allowed([policy], a, blocked, 443)
    assert not allowed([policy], a, public, 443, "UDP")
    # one side alone: a's egress lets it out, d's ingress is shut
    d = Endpoint("d", "10.0.0.4", "ns", {"app": "d"})
    shut = _policy({"matchLabels": {"app": "d"}}, ["Ingress"])
    assert egress_allowed([policy, shut], a, d, 443)
    assert not allowed([policy, shut], a, d, 443)
    assert not egress_allowed([policy, shut], a, d, 501)
    # NotIn selects every pod without that value, unlabelled ones too (aion-dns, all but the
    # sandbox), and an empty rule list lets nothing through (the sandbox's own policy)
    c = Endpoint("c", "10.0.0.3", "ns")
    not_a = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}
    anyone_but_a = _policy(not_a, ["Egress"], egress=[{}])
    assert allowed([deny, anyone_but_a], c, public, 53)
    assert not allowed([deny, anyone_but_a], a, public, 53)
    sealed = _policy({"matchLabels": {"app": "a"}}, ["Ingress", "Egress"], ingress=[], egress=[])
    assert not allowed([sealed], a, public, 443)
    assert not allowed([sealed], c, a, 8080)


def test_the_workers_mount_the_plugins_read_only(overlay: tuple[str, list[Obj]]) -> None:
    """Plugin code every worker imports: nothing inside AION may rewrite it (as in compose)."""
    worker = find(overlay[1], "Deployment", "aion-worker")
    (container,) = [
        c for c in worker["spec"]["template"]["spec"]["containers"] if c["name"] == "worker"
    ]
    mounts = [m for m in container["volumeMounts"] if m["mountPath"] == "/data/plugins"]
    assert mounts and all(m.get("readOnly") is True for m in mounts), mounts
