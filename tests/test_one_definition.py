"""Duplicates removed: each label table and area helper is defined once, names say what
differs where two helpers differ, no module only forwards to another, no dead code."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from flask import Flask

from referral.assistance.forms import ChildConsentFields
from referral.cases.labels import INCIDENT_TYPE_LABELS
from referral.cases.models import IncidentType
from referral.directory.models import Area, AreaLevel
from referral.directory.services import area_choices, areas_below
from referral.extensions import db
from referral.referrals.labels import CAREGIVER_LABELS
from referral.reports import services as reports

PACKAGE = Path(__file__).resolve().parent.parent / "referral"


def _top_level_names() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            for name in names:
                found[name].append(str(path.relative_to(PACKAGE)))
    return found


def test_duplicates_label_tables_and_area_helpers_are_defined_once() -> None:
    names = _top_level_names()
    for name in ("INCIDENT_TYPE_LABELS", "area_choices", "areas_below", "subtree_ids"):
        assert len(names[name]) == 1, (name, names[name])
    assert "areas_within" not in names  # two meanings under one name: renamed
    # the perpetrator relationship; the caregiver labels are CAREGIVER_LABELS, once
    assert names["RELATIONSHIP_LABELS"] == ["cases/labels.py"]
    assert names["CAREGIVER_LABELS"] == ["referrals/labels.py"]


def test_duplicates_dead_code_and_pass_throughs_are_gone() -> None:
    names = _top_level_names()
    for dead in ("services_for_choices", "clinical_window_open", "chain_fields"):
        assert dead not in names
    text = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    assert "RecordScope" not in text and "chain_fields" not in text
    assert not (PACKAGE / "referrals" / "trail.py").exists()


def test_duplicates_the_two_area_helpers_say_their_difference(app: Flask) -> None:
    """``areas_below``: the areas strictly below one area (loaded); ``subtree_ids``: the
    ids of an area and every area below it (from the cached tree, for SQL filters)."""
    country = Area(code="AR", name="Arland", level=AreaLevel.COUNTRY)
    province = Area(code="AR-LOM", name="Lomara", level=AreaLevel.PROVINCE, parent=country)
    district = Area(code="AR-LOM-01", name="Kesa", level=AreaLevel.DISTRICT, parent=province)
    db.session.add_all([country, province, district])
    db.session.commit()
    assert [a.code for a in areas_below(province)] == ["AR-LOM-01"]
    assert reports.subtree_ids(reports.area_tree(), province.id) == {province.id, district.id}
    # the directory indents the tree; the statistics filter names each area's path
    assert dict(area_choices())[district.public_id].strip() == "Kesa"
    assert dict(reports.area_path_choices())[district.public_id] == "Arland / Lomara / Kesa"


def test_duplicates_labels_are_shared_by_the_features_that_show_them() -> None:
    assert INCIDENT_TYPE_LABELS[IncidentType.RAPE] == "Rape"
    field = ChildConsentFields.caregiver_relationship  # unbound: its arguments as declared
    offered = {value: label for value, label in field.kwargs["choices"] if value}
    assert offered == {r.value: label for r, label in CAREGIVER_LABELS.items()}
