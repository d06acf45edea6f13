"""Generating promo codes: 10,000 unique codes with check characters vs bare random strings.

    python bench/codes.py [-n 10000] [--runs 5]

The timing that tests/offers/test_codes.py used to assert (under 1 s) lives here. Baseline,
measured in the same run: the same number of random strings of the same length from the same
alphabet with `secrets.choice`, without the check character, the grouping or the uniqueness
guarantee. Ratio = codes time / baseline time.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time

from crosspromo.offers.codes import ALPHABET, CodePattern, generate


def _median(run: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args, _ = parser.parse_known_args()  # run-bench.sh passes every bench the same options
    pattern = CodePattern("CAFE")
    length = len(generate(pattern, 1)[0].replace("-", "")) - len("CAFE")
    codes = _median(lambda: generate(pattern, args.n), args.runs)
    bare = _median(
        lambda: ["".join(secrets.choice(ALPHABET) for _ in range(length)) for _ in range(args.n)],
        args.runs,
    )
    print(f"{args.n:,} codes, median of {args.runs} runs")
    print("| operation | time | baseline (bare random strings) | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| generate {args.n:,} unique codes | {codes * 1000:.1f} ms | {bare * 1000:.1f} ms "
        f"| {codes / bare:.2f} |"
    )


if __name__ == "__main__":
    main()
