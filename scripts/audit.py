"""`make audit` (part of `make lint`): pip-audit every requirements lock for known vulnerabilities.

pip-audit asks PyPI's vulnerability data (its default service) about each pinned version; the
locks are hashed and complete, so it resolves nothing itself (--disable-pip --no-deps). One run
covers all locks: they share versions, so a package is asked about once.

Fails on any known vulnerability. A package the service could not answer for is not a pass: it is
listed, and fails the run when AION_AUDIT_STRICT=1 (PyPI's per-version JSON API may be out of
reach, e.g. behind a proxy that serves only the package index).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from scripts.locks import ALL, REPO


def run_pip_audit() -> dict[str, Any]:
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps", "--format", "json"]
    command += ["--progress-spinner", "off"]
    for lock in ALL:
        command += ["--requirement", lock.output]
    # Exit code 1 means "vulnerabilities found": the JSON says which, so read it either way.
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1) or not result.stdout.strip():
        sys.stderr.write(result.stderr)
        raise SystemExit(f"pip-audit failed (exit {result.returncode})")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def main() -> int:
    report = run_pip_audit()
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            pinned = f"{dependency['name']}=={dependency['version']}"
            print(f"VULNERABLE {pinned}: {vuln['id']} (fixed in {fixed})")
    audited = len(dependencies) - len(skipped)
    print(
        f"pip-audit: {audited} of {len(dependencies)} locked packages audited, "
        f"{sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities"
    )
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        reason = str(skipped[0]["skip_reason"]).split(":")[0]
        print(
            f"pip-audit could NOT audit {len(skipped)} packages, so this is no pass for them: "
            f"the vulnerability service gave no answer ({reason!r}); AION_AUDIT_STRICT=1 "
            f"makes that an error. Not audited: {names}"
        )
    if vulnerable:
        return 1
    if skipped and os.environ.get("AION_AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
