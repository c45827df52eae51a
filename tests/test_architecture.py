"""The architecture's rules, enforced: services never import each other, `shared/` imports no
service, the telegram service never loads (or ships) the database layer, and the arq internals
the worker relies on are still there."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVICES = sorted(
    p.name for p in (REPO / "services").iterdir() if p.is_dir() and (p / "__init__.py").exists()
)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service: str) -> None:
    others = tuple(f"services.{name}" for name in SERVICES if name != service)
    wrong = {
        f"{path.relative_to(REPO)}: {module}"
        for path in _python_files(REPO / "services" / service)
        for module in _imports(path)
        if module in others or module.startswith(tuple(f"{o}." for o in others))
    }
    assert not wrong, "services talk over HTTP and Redis, never by import:\n" + "\n".join(wrong)


def test_shared_imports_no_service() -> None:
    wrong = {
        f"{path.relative_to(REPO)}: {module}"
        for path in _python_files(REPO / "shared")
        for module in _imports(path)
        if module == "services" or module.startswith("services.")
    }
    assert not wrong, "shared/ is what services have in common:\n" + "\n".join(wrong)


def test_sql_lives_only_in_shared_db_and_the_migrations() -> None:
    """psycopg is imported where SQL is written (shared/db, migrations), pools and error
    handling aside: no service builds queries of its own."""
    allowed_users = {"services/api/errors.py", "services/tts/errors.py", "services/worker/turn.py"}
    wrong = set()
    for path in _python_files(REPO / "services"):
        rel = str(path.relative_to(REPO))
        source = path.read_text()
        if any(word in source for word in ('"SELECT ', '"INSERT ', '"UPDATE ', '"DELETE FROM')):
            wrong.add(f"{rel}: SQL text")
        if "psycopg.sql" in source and rel not in allowed_users:
            wrong.add(f"{rel}: builds SQL")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_telegram_service_loads_no_database_code() -> None:
    """It is an api client: importing all of it loads neither shared/db, the vault, psycopg nor
    pgvector (its image does not ship them)."""
    modules = [
        f"services.telegram.{p.stem}"
        for p in (REPO / "services" / "telegram").glob("*.py")
        if p.stem != "__init__"
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool', "
        "'pgvector', 'sqlalchemy', 'alembic') or m.startswith(('shared.db', 'shared.vault')))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"the telegram service loaded: {done.stdout.strip()}"
    pins = (REPO / "services" / "telegram" / "requirements.in").read_text().lower()
    for package in ("psycopg", "pgvector"):
        assert f"\n{package}" not in pins, f"the telegram image ships {package}"


def test_the_arq_internals_the_worker_overrides_are_still_there() -> None:
    """services/worker/runner.py replaces arq's poll loop wait (`_poll_iteration`, called by
    `Worker._poll` in a `poll_delay` loop) and hooks SIGTERM (`handle_sig_wait_for_completion`).
    Both are private to arq: a release that renames or stops calling them must fail here, not
    silently turn the event-driven worker into a busy or a deaf one."""
    from arq.worker import Worker

    poll_iteration = Worker._poll_iteration
    assert inspect.iscoroutinefunction(poll_iteration)
    assert list(inspect.signature(poll_iteration).parameters) == ["self"]
    assert "await self._poll_iteration()" in inspect.getsource(Worker)
    assert "poll_delay" in inspect.signature(Worker.__init__).parameters
    assert callable(Worker.handle_sig_wait_for_completion)
    assert "handle_sig_wait_for_completion" in inspect.getsource(Worker.__init__)


NAMED_CODE = ("services", "shared", "tests", "bench", "scripts", "migrations")


def _env_settings_classes() -> dict[str, Path]:
    """Every class of ours that derives, at any depth, from pydantic-settings' BaseSettings."""
    bases: dict[str, tuple[set[str], Path]] = {}
    for folder in NAMED_CODE:
        for path in _python_files(REPO / folder):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ClassDef):
                    names = {
                        b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases
                    }
                    bases[node.name] = (names, path)
    found = {"BaseSettings": REPO}
    while grown := {n: p for n, (b, p) in bases.items() if n not in found and b & set(found)}:
        found |= grown
    del found["BaseSettings"]
    return found


def test_environment_settings_live_in_settings_modules() -> None:
    """*Settings* are a process's environment settings (shared/service_settings.py): each class
    is called `...Settings` and, in a service or shared/, lives in a settings module."""
    wrong = []
    for name, path in _env_settings_classes().items():
        rel = path.relative_to(REPO)
        home = rel.parts[0] not in ("services", "shared") or rel.name in (
            "settings.py",
            "service_settings.py",
        )
        if not name.endswith("Settings") or not home:
            wrong.append(f"{rel}: {name}")
    assert not wrong, "environment settings elsewhere or misnamed:\n" + "\n".join(wrong)


def _named(node: ast.AST) -> list[tuple[str, str, int]]:
    """(name, the type or the class it is made from, line) of every annotated parameter,
    annotated name or field, and name bound to a call of a class."""
    if isinstance(node, ast.arg) and node.annotation is not None:
        return [(node.arg, ast.unparse(node.annotation), node.lineno)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [(node.target.id, ast.unparse(node.annotation), node.lineno)]
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
        made = ast.unparse(node.value.func)
        return [(t.id, made, node.lineno) for t in node.targets if isinstance(t, ast.Name)]
    return []


def test_settings_and_config_each_mean_one_thing() -> None:
    """`settings` is a process's environment settings, never the owner's (`owner_settings`,
    an AppSettings); and environment settings are never called `config`. The API's response
    models (services/api/schemas/) name their JSON fields as the public API does."""
    env = set(_env_settings_classes())
    wrong = []
    for folder in NAMED_CODE:
        for path in _python_files(REPO / folder):
            rel = path.relative_to(REPO)
            if rel.parts[:3] == ("services", "api", "schemas"):
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                for name, kind, line in _named(node):
                    words = set(re.findall(r"\w+", kind))
                    if name == "settings" and "AppSettings" in words:
                        wrong.append(f"{rel}:{line}: `settings` holds the owner's AppSettings")
                    if "config" in name.lower() and words & env:
                        wrong.append(f"{rel}:{line}: `{name}` holds environment settings")
    assert not wrong, "\n".join(wrong)
