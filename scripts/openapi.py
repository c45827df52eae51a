"""`python -m scripts.openapi`: write docs/openapi.json from the api's code; `--check`: fail
(exit 1) when the committed file is not what the code generates now.

The document comes from `create_app()` with default settings (none read from the environment:
the document does not depend on them), written with sorted keys so a diff shows what changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from scripts.locks import REPO
from services.api import openapi
from services.api.main import create_app
from services.api.settings import ApiSettings

OUTPUT = REPO / "docs" / "openapi.json"


def generate() -> dict[str, Any]:
    return openapi.document(create_app(ApiSettings.model_construct()))


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = render(generate())
    if not args.check:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(REPO)}")
        return 0
    if not OUTPUT.exists() or OUTPUT.read_text() != text:
        print(
            f"{OUTPUT.relative_to(REPO)} is not what the code generates: run "
            "`python -m scripts.openapi` and commit it",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
