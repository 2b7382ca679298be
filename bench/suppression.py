"""Benchmark: small-cell suppression (R24) of large count tables, alone.

    .venv/bin/python bench/suppression.py                  # 40 x 12 tables, 20 of them
    .venv/bin/python bench/suppression.py --rows 80 --columns 24 --tables 5

Each table is filled with counts drawn from a fixed mix of zeros, small cells (1-4, to be
hidden) and larger ones, as the statistics pages produce. The script reports the time
`suppress` takes per table (best, median, worst) and checks every published table with
the auditor (`unprotected_cells`), so a faster but leaky suppression cannot pass.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from referral.reports.suppression import CountTable, Mark, suppress, unprotected_cells

COUNTS = (0, 1, 2, 5, 6, 9, 30)
THRESHOLD = 5


def random_counts(generator: random.Random, rows: int, columns: int) -> list[list[int]]:
    return [[generator.choice(COUNTS) for _ in range(columns)] for _ in range(rows)]


def build(counts: list[list[int]]) -> CountTable:
    return CountTable.build(
        "bench",
        "row",
        [f"r{i}" for i in range(len(counts))],
        [f"c{j}" for j in range(len(counts[0]))],
        counts,
    )


def true_grid(counts: list[list[int]]) -> list[list[int]]:
    grid = [[*row, sum(row)] for row in counts]
    totals = [sum(row[j] for row in counts) for j in range(len(counts[0]))]
    grid.append([*totals, sum(totals)])
    return grid


def published_marks(counts: list[list[int]]) -> tuple[float, list[list[Mark]]]:
    """Seconds `suppress` took, and the marks of the published grid (margins last)."""
    started = time.perf_counter()
    safe = suppress(build(counts), THRESHOLD)
    elapsed = time.perf_counter() - started
    rows = [[*row, total] for row, total in zip(safe.cells, safe.row_totals, strict=True)]
    rows.append([*safe.column_totals, safe.grand_total])
    return elapsed, [[cell.mark for cell in row] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--columns", type=int, default=12)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    generator = random.Random(arguments.seed)
    timings = []
    for _ in range(arguments.tables):
        counts = random_counts(generator, arguments.rows, arguments.columns)
        elapsed, marks = published_marks(counts)
        leaks = unprotected_cells(true_grid(counts), marks, THRESHOLD)
        if leaks:
            raise SystemExit(f"suppression leaked cells {leaks} of a table")
        timings.append(elapsed)
    print(
        f"suppress, {arguments.tables} tables of {arguments.rows} x {arguments.columns}: "
        f"best {min(timings) * 1000:.1f} ms, median {statistics.median(timings) * 1000:.1f} ms, "
        f"worst {max(timings) * 1000:.1f} ms; every table checked by the auditor"
    )


if __name__ == "__main__":
    main()
