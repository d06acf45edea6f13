"""Refusing a CSV whose first line never ends: a big file vs one just over the limit.

    python bench/reader_refusal.py [--mb 5] [--limit 100000] [--runs 5]

The timing that tests/imports/test_reader.py used to assert (under 2 s) lives here; the test
now checks the behaviour (it stops after about the limit's bytes). Baseline, measured in the
same run: refusing a file of 1.5 x the limit. Ratio = big / small, about 1 when the refusal
does not depend on the file's size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from crosspromo.imports.reader import FileProblem, open_table


def _median(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=5)
    parser.add_argument("--limit", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args, _ = parser.parse_known_args()  # run-bench.sh passes every bench the same options
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.csv", Path(tmp) / "small.csv"
        with big.open("wb") as f:
            for _ in range(args.mb * 16):
                f.write(b"a," * 32768)
        small.write_bytes(b"a," * (args.limit * 3 // 4))

        def refuse(path: Path) -> None:
            try:
                open_table(path, max_line_bytes=args.limit)
            except FileProblem:
                return
            raise SystemExit("the reader accepted a line longer than the limit")

        refused = _median(lambda: refuse(big), args.runs)
        whole = _median(lambda: refuse(small), args.runs)
    print(f"{args.mb} MB without a line break, limit {args.limit:,} bytes, median of {args.runs}")
    print("| operation | time | baseline (a file of 1.5 x the limit) | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| refuse the long line | {refused * 1000:.1f} ms | {whole * 1000:.1f} ms "
        f"| {refused / whole:.2f} |"
    )


if __name__ == "__main__":
    main()
