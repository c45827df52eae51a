"""axe-core in the page, under the console's CSP, and screenshots of each screen.

The CSP forbids inline script, so axe is not added as a <script>: its source is evaluated
through the DevTools protocol (Playwright's `evaluate`), which a page's CSP does not govern.
Screenshots go to tests/console/screenshots/ (git-ignored), at a phone's size and a desktop's.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from playwright.async_api import Page, ViewportSize

from tests.stack import ROOT

AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "console" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}

_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}"""


@cache
def _axe_source() -> str:
    return AXE.read_text()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(_axe_source())
    violations: list[dict[str, Any]] = await page.evaluate(_RUN)
    return violations


async def check_screen(page: Page, name: str) -> list[str]:
    """Screenshots of the screen (phone and desktop, light; phone, dark) and axe's findings in
    each; returns the findings as lines (empty: none serious or critical)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    looks: list[tuple[Literal["light", "dark"], str, ViewportSize]] = [
        ("light", "phone", PHONE),
        ("light", "desktop", DESKTOP),
        ("dark", "phone", PHONE),
    ]
    for scheme, size_name, size in looks:
        await page.emulate_media(color_scheme=scheme)
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}-{scheme}.png"))
        where = f"{name} ({size_name}, {scheme})"
        found += [
            f"{where}: {v['id']} [{v['impact']}] {v['help']} at {v['nodes']}"
            for v in await serious_violations(page)
        ]
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size(PHONE)
    return found
