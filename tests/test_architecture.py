"""The architecture's own guarantees: every module of the package sits in a layer of the
import-linter contract, and the repository never points outside itself."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import referral

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(referral.__file__).resolve().parent


def layered_modules() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    names: set[str] = set()
    for layer in layers:
        for part in layer.split("|"):
            names.add(part.strip().strip("()"))
    return names


def package_modules() -> set[str]:
    """The package's top-level modules and sub-packages (not the app factory itself)."""
    found = {f"referral.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    found |= {f"referral.{p.parent.name}" for p in PACKAGE.glob("*/__init__.py")}
    return found


def test_item9_every_module_is_in_an_import_layer() -> None:
    """A module outside every layer escapes the contract: it could import anything."""
    modules = package_modules()
    assert "referral.security" in modules and "referral.cli" in modules
    missing = sorted(modules - layered_modules())
    assert missing == [], f"add to [tool.importlinter] layers in pyproject.toml: {missing}"


def test_item9_the_layers_name_only_real_modules() -> None:
    assert sorted(layered_modules() - package_modules()) == []


# Files of the project (documentation, code, configuration), not build output.
PROJECT_FILES = (
    "README.md",
    "THREATS.md",
    "Makefile",
    "pyproject.toml",
    "docs/**/*.md",
    "referral/**/*.py",
    "tests/**/*.py",
    "bench/**/*.py",
    "config/*.toml",
    "migrations/**/*.py",
    "templates/**/*.html",
)
OUTSIDE = re.compile(r"\.\./" + "shared|" + r"\bissue\s*#?\d+", re.IGNORECASE)


def project_files() -> list[Path]:
    found: list[Path] = []
    for pattern in PROJECT_FILES:
        found.extend(p for p in ROOT.glob(pattern) if p.is_file())
    return found


def test_item9_the_repository_never_points_outside_itself() -> None:
    """No link to a folder beside the repository, no reference to a tracker's issue: a
    reader of the repository alone finds everything it mentions."""
    files = project_files()
    assert any(p.name == "policy.py" for p in files)
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offending == []


def test_item8_the_tests_are_type_checked() -> None:
    """`make check` runs mypy (strict) over the tests as well as the package."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert {"referral", "tests"} <= set(config["tool"]["mypy"]["packages"])
    assert config["tool"]["mypy"]["strict"] is True


ROLE_FIXTURES = (
    "org",
    "other_org",
    "clinic",
    "admin",
    "auditor",
    "coordinator",
    "supervisor",
    "caseworker",
    "receiver",
    "psea_focal_point",
    "psea_coordinator",
    "va_focal_point",
)
BUILDERS = ("make_organisation", "make_person", "make_service", "open_case", "make_pathway")


def _definitions(pattern: str) -> list[str]:
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name in ("conftest.py", "factories.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(pattern, line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_item8_role_fixtures_are_defined_once_in_conftest() -> None:
    """A module takes ``caseworker``, ``supervisor``... from tests/conftest.py (a
    Person of that role in ``org``) instead of defining its own."""
    names = "|".join(ROLE_FIXTURES)
    assert _definitions(rf"def ({names})\(") == []


def test_item8_builders_are_defined_once_in_the_factory_module() -> None:
    """Organisations, people, services, cases and pathways are built by tests/factories.py,
    and no second helper module of builders is left beside it."""
    assert _definitions(rf"def ({'|'.join(BUILDERS)})\(") == []
    helpers = ("casehelpers.py", "directory_helpers.py", "api_helpers.py")
    assert [name for name in helpers if (ROOT / "tests" / name).exists()] == []


def test_item9_the_readme_points_to_the_architecture_document() -> None:
    """The architecture is documented inside the repository, and the README leads there;
    every rule R1..R26 has its place in it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/ARCHITECTURE.md" in readme
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for number in range(1, 27):
        assert re.search(rf"^\| R{number} ", architecture, re.MULTILINE), f"R{number}"
    for section in ("## Layers", "## The unit of work", "## How to add an endpoint"):
        assert section in architecture


def test_item9_the_architecture_document_names_only_real_files() -> None:
    """Every repository path the document names in backquotes exists."""
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(
        re.findall(r"`((?:referral|tests|bench|templates|migrations|docs)/[\w/.]*)", architecture)
    )
    named = {path.split("::")[0].rstrip("/.") for path in named if "<" not in path}
    missing = sorted(p for p in named if not (ROOT / p).exists() and "00NN" not in p)
    assert missing == []


def test_item9_every_function_the_rule_table_names_exists() -> None:
    """The rule table's names (functions, classes, tables, constants) are defined in the
    package, so the document cannot drift away from the code unnoticed."""
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = [line for line in architecture.splitlines() if re.match(r"\| R\d+ ", line)]
    names = {
        name
        for row in rows
        for name in re.findall(r"`([A-Za-z_]\w*)`", row)
        if not name.endswith(".py")
    }
    assert len(names) > 40
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    undefined = sorted(
        name
        for name in names
        if not re.search(rf"^\s*(?:def|class) {name}\b|^\s*{name}\b\s*[:=]", source, re.M)
    )
    assert undefined == []


def test_item9_the_architecture_document_places_every_module_in_its_layer() -> None:
    """The document's layer table names exactly the package's modules."""
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = architecture[architecture.index("From the top down") : architecture.index("## The")]
    named = {
        f"referral.{name}"
        for name in re.findall(r"^\| [^|]+ \| ([^|]+) \|", table, re.M)
        for name in re.findall(r"`(\w+)`", name)
    }
    assert named == package_modules()
