"""axe-core scans of the pages the browser journeys visit (axe-playwright-python bundles
axe.min.js, so nothing is fetched from another host).

Each distinct page is scanned once: the URL's public ids and survivor codes are replaced by
a placeholder, the query string is dropped, and a page showing form errors or another
language counts as a page of its own. Violations of impact serious or critical fail the
journey that found them; every result goes to the summary, test-output/axe.txt.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FAILING_IMPACTS = frozenset({"serious", "critical"})

# Public ids (16 characters of the code alphabet) and human codes such as GBV-26-7KQ3M.
_PUBLIC_ID = re.compile(r"(?<=/)[0-9A-HJKMNP-TV-Z]{16}(?=/|$)")
_HUMAN_CODE = re.compile(r"(?<=/)[A-Z]{2,5}-\d{2}-[0-9A-Z]{4,8}(?=/|$)")


def page_pattern(url: str) -> str:
    path = urlsplit(url).path
    return _HUMAN_CODE.sub("<code>", _PUBLIC_ID.sub("<id>", path))


@dataclass
class Scan:
    page: str
    violations: list[dict[str, Any]]

    @property
    def failing(self) -> list[dict[str, Any]]:
        return [v for v in self.violations if v.get("impact") in FAILING_IMPACTS]


def describe(violation: dict[str, Any]) -> str:
    lines = [f"  {violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"][:5]:
        summary = " ".join((node.get("failureSummary") or "").split())
        lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
        if summary:
            lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@dataclass
class AxeScanner:
    scans: dict[str, Scan] = field(default_factory=dict)
    _axe: Any = None

    def key(self, page: Any) -> str:
        key = page_pattern(page.url)
        language = page.evaluate("document.documentElement.lang") or "?"
        if not language.startswith("en"):
            key += f" [{language}]"
        if page.locator(".error-summary, [aria-invalid=true]").count():
            key += " (with form errors)"
        return key

    def scan(self, page: Any) -> Scan | None:
        """Scan the page unless a page of its pattern was scanned already."""
        key = self.key(page)
        if key in self.scans:
            return None
        if self._axe is None:
            from axe_playwright_python.sync_playwright import Axe

            self._axe = Axe()
        result = self._axe.run(page)
        scan = Scan(key, result.response["violations"])
        self.scans[key] = scan
        return scan

    def summary(self) -> str:
        by_rule: Counter[tuple[str, str]] = Counter()
        for scan in self.scans.values():
            for violation in scan.violations:
                by_rule[(violation["id"], violation["impact"])] += len(violation["nodes"])
        lines = [
            f"axe-core scan of the pages the browser journeys visit: {len(self.scans)} pages",
            "failing impacts: serious, critical (colour contrast AA included)",
            "",
            "violations by rule (rule, impact: elements):",
        ]
        lines += [f"  {rule} ({impact}): {n}" for (rule, impact), n in sorted(by_rule.items())]
        if not by_rule:
            lines.append("  none")
        lines += ["", "pages scanned:"]
        for key in sorted(self.scans):
            scan = self.scans[key]
            found = ", ".join(f"{v['id']} ({v['impact']})" for v in scan.violations) or "clean"
            lines.append(f"  {key}: {found}")
        return "\n".join(lines) + "\n"

    def write_summary(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.summary(), encoding="utf-8")
