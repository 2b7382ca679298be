"""Small-cell suppression: the ONE place every published table passes through (R24).

A table is counts in rows x columns plus its row totals, column totals and grand total.
What may be published of it:

- zeros are shown as zero (a zero identifies nobody);
- primary suppression: a count from 1 to ``threshold - 1`` (a cell or a total) is shown
  as "<5" (``Mark.SMALL``);
- secondary suppression: further non-zero counts are hidden (``Mark.HIDDEN``, shown as
  "x") until no hidden count can be worked out from what is published.

"Worked out" is checked exactly, against a reader who knows everything published, that
a "<5" count lies between 1 and ``threshold - 1`` and that an "x" count is at least
``threshold`` (every shown non-zero count is, so the one hidden in its place is too).
Write the table with the margins as an (R+1) x (C+1) grid; with the signs
``s = (-1)^(is total row + is total column)`` every row and every column of the signed
grid sums to zero. Any other table the reader cannot tell apart from the true one
differs from it by a circulation on the hidden cells (a bipartite graph: grid rows and
grid columns are nodes, hidden cells are edges), and that circulation splits into simple
cycles that agree with it in sign, so one unit pushed round one such cycle already gives
another admissible table. A hidden count is therefore protected exactly when its edge
lies on a cycle of the residual graph (an arc where the count can still go up or down by
one within its bounds). ``unprotected_cells`` computes that; ``suppress`` hides the
smallest non-zero shown count next to an unprotected one, then checks again, until none
is left. If that ever exhausts the table, the whole table is withheld.

Several tables cut from the same data (type x month and type x area, say) are protected
one by one; a reader combining them is beyond this check, which is why shared reports
publish few dimensions and agency identifiers never.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_THRESHOLD = 5
HIDDEN_TEXT = "x"
# How many candidates for secondary suppression are tried at each step.
LOOKAHEAD = 8


class Mark(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # primary: 1 .. threshold-1, shown as "<5"
    HIDDEN = "hidden"  # secondary: hidden so a small count cannot be worked out


@dataclass(frozen=True)
class Cell:
    """One published value: the count only when shown, never the true value otherwise."""

    mark: Mark
    value: int | None
    threshold: int

    @property
    def shown(self) -> bool:
        return self.mark is Mark.SHOWN

    @property
    def suppressed(self) -> bool:
        return self.mark is not Mark.SHOWN

    @property
    def text(self) -> str:
        if self.mark is Mark.SHOWN:
            return str(self.value)
        if self.mark is Mark.SMALL:
            return f"<{self.threshold}"
        return HIDDEN_TEXT

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class CountTable:
    """True counts, before anything is published. Never hand this to a template."""

    title: str
    row_header: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    # False for categories that overlap (one incident in several rows): no totals are
    # published, so each count only needs primary suppression.
    totals: bool = True

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.row_labels):
            raise ValueError("one row of counts per row label")
        for row in self.counts:
            if len(row) != len(self.column_labels):
                raise ValueError("one count per column label in every row")
            if any(value < 0 for value in row):
                raise ValueError("counts are never negative")

    @classmethod
    def build(
        cls,
        title: str,
        row_header: str,
        row_labels: Sequence[str],
        column_labels: Sequence[str],
        counts: Sequence[Sequence[int]],
        *,
        totals: bool = True,
    ) -> CountTable:
        return cls(
            str(title),
            str(row_header),
            tuple(str(label) for label in row_labels),
            tuple(str(label) for label in column_labels),
            tuple(tuple(int(value) for value in row) for row in counts),
            totals,
        )


@dataclass(frozen=True)
class SafeRow:
    label: str
    cells: tuple[Cell, ...]
    total: Cell


@dataclass(frozen=True)
class SafeTable:
    """What may be published: the only table type charts, pages and exports accept."""

    title: str
    row_header: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    grand_total: Cell
    threshold: int
    withheld: bool = False
    totals_published: bool = True

    def rows(self) -> Iterator[SafeRow]:
        for label, cells, total in zip(self.row_labels, self.cells, self.row_totals, strict=True):
            yield SafeRow(label, cells, total)

    @property
    def single_column(self) -> bool:
        return len(self.column_labels) == 1

    @property
    def has_suppressed(self) -> bool:
        return any(cell.suppressed for cell in self.all_cells())

    def all_cells(self) -> Iterator[Cell]:
        for row in self.cells:
            yield from row
        yield from self.row_totals
        yield from self.column_totals
        yield self.grand_total


Position = tuple[int, int]


def _grid(table: CountTable) -> list[list[int]]:
    """The table with its margins: row totals in the last column, column totals last."""
    grid = [[*row, sum(row)] for row in table.counts]
    columns = len(table.column_labels)
    totals = [sum(row[j] for row in table.counts) for j in range(columns)]
    grid.append([*totals, sum(totals)])
    return grid


def _bounds(mark: Mark, threshold: int) -> tuple[int, int | None]:
    """What the reader knows of a suppressed value: (lowest, highest or None)."""
    if mark is Mark.SMALL:
        return 1, threshold - 1
    return threshold, None


class _Residual:
    """The residual graph of the suppressed values (see the module docstring).

    Nodes: grid rows 0..R, then grid columns. A suppressed value at (i, j) is an edge
    between row i and column j; its forward arc (row -> column) adds one to the signed
    value, its backward arc subtracts one, each present only when the value stays within
    what the reader knows of it.
    """

    def __init__(
        self, grid: Sequence[Sequence[int]], marks: Sequence[Sequence[Mark]], threshold: int
    ) -> None:
        rows, columns = len(grid), len(grid[0])
        self.rows = rows
        self.arcs: dict[int, list[tuple[int, Position]]] = {
            node: [] for node in range(rows + columns)
        }
        self.hidden: list[Position] = []
        self.rises: set[Position] = set()
        self.falls: set[Position] = set()
        for i in range(rows):
            for j in range(columns):
                if marks[i][j] is Mark.SHOWN:
                    continue
                self.hidden.append((i, j))
                value = grid[i][j]
                low, high = _bounds(marks[i][j], threshold)
                can_rise = high is None or value + 1 <= high
                can_fall = value - 1 >= low
                signed = (i == rows - 1) == (j == columns - 1)
                if can_rise if signed else can_fall:
                    self.arcs[i].append((rows + j, (i, j)))
                    self.rises.add((i, j))
                if can_fall if signed else can_rise:
                    self.arcs[rows + j].append((i, (i, j)))
                    self.falls.add((i, j))

    def _reaches(self, start: int, goal: int, avoid: Position) -> bool:
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                return True
            for nxt, position in self.arcs[node]:
                if position != avoid and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return False

    def protected(self, position: Position) -> bool:
        """Whether the value at ``position`` can move one unit with all else consistent."""
        row_node, column_node = position[0], self.rows + position[1]
        return (position in self.rises and self._reaches(column_node, row_node, position)) or (
            position in self.falls and self._reaches(row_node, column_node, position)
        )


def unprotected_cells(
    grid: Sequence[Sequence[int]], marks: Sequence[Sequence[Mark]], threshold: int
) -> list[Position]:
    """Suppressed positions of the grid (margins included: last row and last column are
    totals) whose true value the published values pin down."""
    residual = _Residual(grid, marks, threshold)
    return [position for position in residual.hidden if not residual.protected(position)]


def _is_total(grid: Sequence[Sequence[int]], position: Position) -> bool:
    return position[0] == len(grid) - 1 or position[1] == len(grid[0]) - 1


def _cheapest_first(grid: Sequence[Sequence[int]], positions: Iterable[Position]) -> list[Position]:
    """Inner cells before totals, then the smallest count."""
    return sorted(positions, key=lambda p: (_is_total(grid, p), grid[p[0]][p[1]], p))


def _shown_nonzero(
    grid: Sequence[Sequence[int]], marks: Sequence[Sequence[Mark]], positions: Iterable[Position]
) -> list[Position]:
    return [p for p in positions if marks[p[0]][p[1]] is Mark.SHOWN and grid[p[0]][p[1]] > 0]


def _line_positions(grid: Sequence[Sequence[int]], position: Position) -> set[Position]:
    i, j = position
    return {(i, c) for c in range(len(grid[0]))} | {(r, j) for r in range(len(grid))}


def _hide_lonely(grid: Sequence[Sequence[int]], marks: list[list[Mark]]) -> None:
    """The classic rule, cheap and applied first: a row or column (totals included) with
    exactly one suppressed count gets its smallest non-zero shown count hidden too, until
    no such line is left. The exact check that follows does the rest."""
    rows, columns = len(grid), len(grid[0])
    lines = [[(i, j) for j in range(columns)] for i in range(rows)] + [
        [(i, j) for i in range(rows)] for j in range(columns)
    ]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(marks[i][j] is not Mark.SHOWN for i, j in line) != 1:
                continue
            shown = _cheapest_first(grid, _shown_nonzero(grid, marks, line))
            if shown:
                i, j = shown[0]
                marks[i][j] = Mark.HIDDEN
                changed = True


def _next_to_hide(
    grid: Sequence[Sequence[int]],
    marks: list[list[Mark]],
    exposed: Sequence[Position],
    threshold: int,
) -> Position | None:
    """The shown non-zero count to hide next for the first exposed count: the cheapest of
    its row and column that protects it, else the cheapest next to any exposed count,
    else the cheapest anywhere."""
    target = exposed[0]
    near = _cheapest_first(grid, _shown_nonzero(grid, marks, _line_positions(grid, target)))
    for i, j in near[:LOOKAHEAD]:
        marks[i][j] = Mark.HIDDEN
        protects = _Residual(grid, marks, threshold).protected(target)
        marks[i][j] = Mark.SHOWN
        if protects:
            return (i, j)
    if near:
        return near[0]
    around: set[Position] = set()
    for position in exposed:
        around |= _line_positions(grid, position)
    wider = _cheapest_first(grid, _shown_nonzero(grid, marks, around))
    if wider:
        return wider[0]
    everywhere = [(r, c) for r in range(len(grid)) for c in range(len(grid[0]))]
    anywhere = _cheapest_first(grid, _shown_nonzero(grid, marks, everywhere))
    return anywhere[0] if anywhere else None


def _primary_marks(grid: Sequence[Sequence[int]], threshold: int) -> list[list[Mark]]:
    if threshold < 2:
        raise ValueError("the suppression threshold is at least 2")
    return [[Mark.SMALL if 0 < value < threshold else Mark.SHOWN for value in row] for row in grid]


def suppression_marks(grid: Sequence[Sequence[int]], threshold: int) -> list[list[Mark]] | None:
    """Marks for every position of a grid with margins, or None when it must be withheld."""
    if threshold < 2:
        raise ValueError("the suppression threshold is at least 2")
    marks = [[Mark.SMALL if 0 < value < threshold else Mark.SHOWN for value in row] for row in grid]
    _hide_lonely(grid, marks)
    while True:
        exposed = unprotected_cells(grid, marks, threshold)
        if not exposed:
            return marks
        target = _next_to_hide(grid, marks, exposed, threshold)
        if target is None:
            return None
        marks[target[0]][target[1]] = Mark.HIDDEN


def suppress(table: CountTable, threshold: int = DEFAULT_THRESHOLD) -> SafeTable:
    """Apply primary and secondary suppression; the only way to make a ``SafeTable``."""
    grid = _grid(table)
    if table.totals:
        marks = suppression_marks(grid, threshold)
    else:
        marks = _primary_marks(grid, threshold)
        for row in marks:
            row[-1] = Mark.HIDDEN
        marks[-1] = [Mark.HIDDEN for _ in marks[-1]]
    withheld = marks is None
    if marks is None:
        marks = [[Mark.HIDDEN for _ in row] for row in grid]

    def cell(i: int, j: int) -> Cell:
        mark = marks[i][j]
        return Cell(mark, grid[i][j] if mark is Mark.SHOWN else None, threshold)

    rows, columns = len(table.row_labels), len(table.column_labels)
    return SafeTable(
        title=table.title,
        row_header=table.row_header,
        row_labels=table.row_labels,
        column_labels=table.column_labels,
        cells=tuple(tuple(cell(i, j) for j in range(columns)) for i in range(rows)),
        row_totals=tuple(cell(i, columns) for i in range(rows)),
        column_totals=tuple(cell(rows, j) for j in range(columns)),
        grand_total=cell(rows, columns),
        threshold=threshold,
        withheld=withheld,
        totals_published=table.totals,
    )


def configured_threshold() -> int:
    """STATS_SUPPRESSION_THRESHOLD from the configuration (default 5), never below 2: a
    mistaken 0 or 1 must not switch suppression off."""
    from flask import current_app

    value = int(current_app.config.get("STATS_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))
    return max(value, 2)


# --- figures derived from counts ----------------------------------------------------------


def safe_share(part: int, whole: int, threshold: int) -> float | None:
    """A proportion, published only when neither the part nor the rest is a small count
    and the whole is not small either (a share of 1 in 3 tells as much as the counts)."""
    rest = whole - part
    if whole < threshold or 0 < part < threshold or 0 < rest < threshold:
        return None
    return part / whole


def safe_median(values: Sequence[float], threshold: int) -> float | None:
    """The median of at least ``threshold`` values (fewer would describe individuals)."""
    if len(values) < threshold:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def safe_median_of_middle(size: int, middle: Sequence[float], threshold: int) -> float | None:
    """``safe_median`` of ``size`` values known only by their middle: the middle value when
    ``size`` is odd, the two middle values when it is even (sorted by the database)."""
    if size < threshold or not middle:
        return None
    ordered = sorted(middle)
    if size % 2:
        return float(ordered[0])
    return (ordered[0] + ordered[1]) / 2


def safe_count(value: int, threshold: int) -> Cell:
    """A single count published on its own (no totals beside it)."""
    mark = Mark.SMALL if 0 < value < threshold else Mark.SHOWN
    return Cell(mark, value if mark is Mark.SHOWN else None, threshold)
