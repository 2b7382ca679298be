"""R24: small-cell suppression, primary and secondary, applied in one place.

The property tests check the published tables against an oracle written independently
of the implementation: a brute-force search for other tables the reader cannot tell
apart from the true one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral.reports.suppression import (
    Cell,
    CountTable,
    Mark,
    SafeTable,
    configured_threshold,
    safe_median,
    safe_median_of_middle,
    suppress,
    unprotected_cells,
)


def table(counts: Sequence[Sequence[int]]) -> CountTable:
    return CountTable.build(
        "t",
        "row",
        [f"r{i}" for i in range(len(counts))],
        [f"c{j}" for j in range(len(counts[0]))],
        counts,
    )


def grid_of(safe: SafeTable) -> list[list[Cell]]:
    """The published table with its margins, as one grid (totals last)."""
    grid = [[*row, total] for row, total in zip(safe.cells, safe.row_totals, strict=True)]
    grid.append([*safe.column_totals, safe.grand_total])
    return grid


def true_grid(counts: Sequence[Sequence[int]]) -> list[list[int]]:
    grid = [[*row, sum(row)] for row in counts]
    totals = [sum(row[j] for row in counts) for j in range(len(counts[0]))]
    grid.append([*totals, sum(totals)])
    return grid


def texts(safe: SafeTable) -> list[list[str]]:
    return [[cell.text for cell in row] for row in grid_of(safe)]


# --- examples -----------------------------------------------------------------------------


def test_r24_counts_one_to_four_are_shown_as_less_than_five_and_zeros_as_zero() -> None:
    safe = suppress(table([[0, 3, 12], [0, 4, 20]]))
    assert texts(safe)[0][:2] == ["0", "<5"]
    assert texts(safe)[1][:2] == ["0", "<5"]
    assert safe.cells[0][0] == Cell(Mark.SHOWN, 0, 5)


def test_r24_a_table_without_small_counts_is_published_whole() -> None:
    safe = suppress(table([[10, 20], [30, 40]]))
    assert texts(safe) == [["10", "20", "30"], ["30", "40", "70"], ["40", "60", "100"]]
    assert not safe.has_suppressed


def test_r24_secondary_suppression_hides_a_partner_in_row_and_column() -> None:
    """A lone "<5" in a row with a published total would be total minus the rest."""
    safe = suppress(table([[1, 10, 20], [7, 8, 30]]))
    assert texts(safe) == [
        ["<5", "x", "20", "31"],
        ["x", "x", "30", "45"],
        ["8", "18", "50", "76"],
    ]


def test_r24_a_small_total_is_suppressed_and_protected_too() -> None:
    """One column: the cell is its own row total; the column total would give it away."""
    safe = suppress(table([[12], [3], [40]]))
    assert texts(safe) == [["x", "x"], ["<5", "<5"], ["40", "40"], ["55", "55"]]


def test_r24_a_table_that_cannot_be_protected_is_withheld() -> None:
    """Four ones: the grand total "<5" with four non-empty cells can only be 4."""
    safe = suppress(table([[1, 1], [1, 1]]))
    assert safe.withheld
    assert all(cell.value is None for cell in safe.all_cells())


def test_r24_the_threshold_is_configurable() -> None:
    safe = suppress(table([[6, 30], [40, 50]]), threshold=10)
    assert texts(safe)[0][0] == "<10"
    assert suppress(table([[6, 30], [40, 50]]), threshold=5).cells[0][0].text == "6"


def test_r24_a_suppressed_cell_never_carries_its_true_value() -> None:
    safe = suppress(table([[1, 10, 20], [7, 8, 30]]))
    for cell in safe.all_cells():
        assert (cell.value is None) == cell.suppressed


def test_an_empty_table_is_all_zeros() -> None:
    safe = suppress(table([[0, 0], [0, 0]]))
    assert texts(safe) == [["0", "0", "0"]] * 3


def test_a_threshold_below_two_is_refused() -> None:
    with pytest.raises(ValueError):
        suppress(table([[1]]), threshold=1)


def test_ragged_or_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        table([[1, 2], [3]])
    with pytest.raises(ValueError):
        table([[-1]])


def test_the_auditor_finds_a_lone_small_cell() -> None:
    grid = true_grid([[1, 10], [20, 30]])
    marks = [[Mark.SHOWN] * 3 for _ in range(3)]
    marks[0][0] = Mark.SMALL
    assert unprotected_cells(grid, marks, 5) == [(0, 0)]


def test_the_auditor_sees_that_hidden_ones_summing_to_their_count_are_exposed() -> None:
    """Two "<5" of 1 in a row whose total is 2: both must be 1 (hidden counts are >= 1)."""
    grid = true_grid([[1, 1, 30], [20, 20, 30]])
    marks = [[Mark.SHOWN] * 4 for _ in range(3)]
    marks[0][0] = marks[0][1] = Mark.SMALL
    assert set(unprotected_cells(grid, marks, 5)) == {(0, 0), (0, 1)}


def test_item8_r24_a_large_table_is_fully_protected() -> None:
    """A 40 x 12 table of many small cells leaves no cell recoverable (its speed is
    measured by bench/suppression.py, not here)."""
    import random

    generator = random.Random(7)
    counts = [[generator.choice([0, 1, 2, 5, 6, 9, 30]) for _ in range(12)] for _ in range(40)]
    safe = suppress(table(counts))
    assert any(Mark.SMALL in row for row in marks_of(safe))
    assert not unprotected_cells(true_grid(counts), marks_of(safe), 5)


# --- properties -----------------------------------------------------------------------------


def marks_of(safe: SafeTable) -> list[list[Mark]]:
    return [[cell.mark for cell in row] for row in grid_of(safe)]


def admissible_alternatives(
    counts: Sequence[Sequence[int]], safe: SafeTable, threshold: int
) -> dict[tuple[int, int], set[int]]:
    """Brute force: every table within one unit of the truth in each hidden inner cell
    that agrees with everything published and with what the marks tell ("<5": 1..t-1,
    "x": at least t). Returns the values each suppressed position takes over them.

    One unit is enough: if any other admissible table exists, one differing by a single
    unit round a cycle of hidden cells exists too (the constraint matrix of a table with
    margins is totally unimodular), and a unit step changes no inner cell by more than 1.
    """
    published = grid_of(safe)
    rows, columns = len(counts), len(counts[0])

    def admissible(value: int, cell: Cell) -> bool:
        if cell.mark is Mark.SHOWN:
            return value == cell.value
        if cell.mark is Mark.SMALL:
            return 1 <= value <= threshold - 1
        return value >= threshold

    row_options: list[list[list[int]]] = []
    for i in range(rows):
        choices = []
        for j in range(columns):
            cell = published[i][j]
            if cell.suppressed:
                options = (counts[i][j] - 1, counts[i][j], counts[i][j] + 1)
                choices.append([v for v in options if admissible(v, cell)])
            else:
                choices.append([counts[i][j]])
        # Rows whose own total disagrees with what is published are dropped early.
        row_options.append(
            [
                list(row)
                for row in itertools.product(*choices)
                if admissible(sum(row), published[i][columns])
            ]
        )
    seen: dict[tuple[int, int], set[int]] = {
        (i, j): set()
        for i in range(rows + 1)
        for j in range(columns + 1)
        if published[i][j].suppressed
    }
    for candidate in itertools.product(*row_options):
        full = true_grid(candidate)
        if all(admissible(full[rows][j], published[rows][j]) for j in range(columns + 1)):
            for position in seen:
                seen[position].add(full[position[0]][position[1]])
    return seen


count_values = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 9), st.integers(10, 60))


@st.composite
def small_tables(draw: st.DrawFn, most: int = 5) -> list[list[int]]:
    rows = draw(st.integers(1, most))
    columns = draw(st.integers(1, most))
    return [[draw(count_values) for _ in range(columns)] for _ in range(rows)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables())
def test_r24_property_shown_values_are_true_and_small_values_never_shown(
    counts: list[list[int]],
) -> None:
    safe = suppress(table(counts), threshold=5)
    truth = true_grid(counts)
    for i, row in enumerate(grid_of(safe)):
        for j, cell in enumerate(row):
            value = truth[i][j]
            if safe.withheld:
                assert cell.value is None
            elif cell.shown:
                assert cell.value == value
                assert value == 0 or value >= 5
            elif cell.mark is Mark.SMALL:
                assert 1 <= value <= 4
            else:
                assert value >= 5
            if 1 <= value <= 4:
                assert cell.suppressed
            if value == 0 and not safe.withheld:
                assert cell.shown


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables())
def test_r24_property_every_line_with_a_suppressed_value_has_another(
    counts: list[list[int]],
) -> None:
    """No row or column (totals included) holds exactly one suppressed value: one alone
    would be its total minus the rest."""
    safe = suppress(table(counts))
    grid = grid_of(safe)
    lines = [list(row) for row in grid] + [list(column) for column in zip(*grid, strict=True)]
    for line in lines:
        assert sum(cell.suppressed for cell in line) != 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables(most=3), threshold=st.integers(2, 7))
def test_r24_property_no_suppressed_value_can_be_recovered_from_the_margins(
    counts: list[list[int]], threshold: int
) -> None:
    """For every suppressed value, the published table admits at least two values."""
    safe = suppress(table(counts), threshold=threshold)
    if safe.withheld:
        return
    for position, values in admissible_alternatives(counts, safe, threshold).items():
        assert len(values) >= 2, (position, counts, [[c.text for c in r] for r in grid_of(safe)])


def test_r24_the_configured_threshold_never_switches_suppression_off(app: Flask) -> None:
    for configured, used in ((5, 5), (10, 10), (1, 2), (0, 2)):
        app.config["STATS_SUPPRESSION_THRESHOLD"] = configured
        try:
            assert configured_threshold() == used
        finally:
            app.config["STATS_SUPPRESSION_THRESHOLD"] = 5


@given(
    st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), max_size=30),
    st.integers(min_value=2, max_value=6),
)
def test_the_median_from_the_middle_values_is_the_safe_median(
    values: list[float], threshold: int
) -> None:
    ordered = sorted(values)
    size = len(ordered)
    middle = ordered[(size - 1) // 2 : size // 2 + 1]
    assert safe_median_of_middle(size, middle, threshold) == safe_median(values, threshold)
