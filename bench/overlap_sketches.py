"""Shared audiences of 10,000 businesses: Theta sketches vs exact Python set intersections.

    python bench/overlap_sketches.py [--businesses 10000] [--per-hood 100] [--lg-k 12] [--all-pairs]

A synthetic city: people live in neighbourhoods of 25,000 residents (5 x the median audience when
that is more); each business belongs to one neighbourhood and draws its audience (log-normal sizes,
median 5,000 or `--median`, at least 300) 80% from its neighbourhood and 20% from the whole city,
so many pairs of neighbours share more than 1,000 people. Keys are 64-hex strings like the keyed
identifier hashes.

Pairs: the 50 million pairs of 10,000 businesses take hours exactly (and most share nobody), so
by default the candidates are the pairs inside each neighbourhood (100 x 4,950 = 495,000), the
ones a partner search would look at; the all-pairs time is projected from the measured per-pair
time. `--all-pairs` measures every pair for real (use a few hundred businesses).

Sketches: `crosspromo.overlap.sketches.estimate_all` over serialized sketches built with the
library from the same keys (no database). Baseline: `len(a & b)` of the same Python sets.
Goal: relative error under 5% for pairs sharing more than 1,000 people.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from itertools import combinations

import numpy as np
from datasketches import update_theta_sketch

from crosspromo.overlap.sketches import Estimate, estimate_all

RESIDENTS = 25_000
LOCAL = 0.8
BIG = 1_000


def audiences(
    businesses: int, per_hood: int, median: int, seed: int
) -> tuple[list[str], list[np.ndarray], list[list[int]]]:
    """Person keys, each business's audience (indexes into the keys), businesses by hood."""
    rng = np.random.default_rng(seed)
    hoods = -(-businesses // per_hood)
    residents = max(RESIDENTS, 5 * median)
    people = hoods * residents
    maker = random.Random(seed)
    keys = [f"{maker.getrandbits(256):064x}" for _ in range(people)]
    sizes = np.clip(rng.lognormal(np.log(median), 0.6, businesses), 300, residents).astype(int)
    members: list[np.ndarray] = []
    groups: list[list[int]] = [[] for _ in range(hoods)]
    for business, size in enumerate(sizes):
        hood = business // per_hood
        groups[hood].append(business)
        local = int(size * LOCAL)
        near = hood * residents + rng.choice(residents, local, replace=False)
        far = rng.integers(0, people, size - local)
        members.append(np.unique(np.concatenate([near, far])))
    return keys, members, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--businesses", type=int, default=10_000)
    parser.add_argument("--per-hood", type=int, default=100)
    parser.add_argument("--median", type=int, default=5_000, help="median audience size")
    parser.add_argument("--lg-k", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--all-pairs", action="store_true")
    args = parser.parse_args()

    began = time.perf_counter()
    keys, members, groups = audiences(args.businesses, args.per_hood, args.median, args.seed)
    if args.all_pairs:
        groups = [[b for group in groups for b in group]]
    setup = time.perf_counter() - began

    build_sets = build_sketches = exact_time = sketch_time = 0.0
    sketch_bytes = 0
    truths: list[int] = []
    estimates: list[Estimate] = []
    for group in groups:
        # Both sides build from the same key lists: Python sets vs serialized sketches.
        lists = {b: [keys[i] for i in members[b].tolist()] for b in group}
        t = time.perf_counter()
        sets = {b: set(lists[b]) for b in group}
        build_sets += time.perf_counter() - t
        t = time.perf_counter()
        sketches: dict[int, bytes] = {}
        for b in group:
            sketch = update_theta_sketch(args.lg_k)
            update = sketch.update
            for key in lists[b]:
                update(key)
            sketches[b] = bytes(sketch.compact().serialize())
        build_sketches += time.perf_counter() - t
        sketch_bytes += sum(len(s) for s in sketches.values())
        pairs = list(combinations(group, 2))
        t = time.perf_counter()
        exact = [len(sets[a] & sets[b]) for a, b in pairs]
        exact_time += time.perf_counter() - t
        t = time.perf_counter()
        found = estimate_all(sketches, pairs)
        sketch_time += time.perf_counter() - t
        truths += exact
        estimates += [found[p] for p in pairs]

    n_pairs = len(truths)
    key_bytes = sum(len(m) for m in members) * 64
    big = [(t, e) for t, e in zip(truths, estimates, strict=True) if t > BIG]
    errors = sorted(abs(e.estimate - t) / t for t, e in big)
    inside = sum(e.lower <= t <= e.upper for t, e in big)
    all_pairs = args.businesses * (args.businesses - 1) // 2
    per_sketch, per_exact = sketch_time / n_pairs, exact_time / n_pairs

    def p(q: float) -> float:
        return errors[min(len(errors) - 1, int(q * len(errors)))] if errors else 0.0

    mean = statistics.fmean(errors) if errors else 0.0
    rows = [
        (
            f"build {args.businesses:,} audiences",
            f"sketches {build_sketches:.1f} s",
            f"Python sets {build_sets:.1f} s",
            build_sketches / build_sets,
        ),
        (
            f"overlap of {n_pairs:,} pairs",
            f"sketches {sketch_time:.1f} s",
            f"set intersections {exact_time:.1f} s",
            sketch_time / exact_time,
        ),
        (
            "per pair",
            f"{per_sketch * 1e6:.1f} µs",
            f"{per_exact * 1e6:.1f} µs",
            per_sketch / per_exact,
        ),
        (
            f"all {all_pairs:,} pairs (projected)",
            f"{per_sketch * all_pairs / 60:,.0f} min",
            f"{per_exact * all_pairs / 60:,.0f} min",
            per_sketch / per_exact,
        ),
        (
            "storage",
            f"sketches {sketch_bytes / 1e6:,.0f} MB",
            f"64-hex key lists {key_bytes / 1e6:,.0f} MB",
            sketch_bytes / key_bytes,
        ),
        (
            f"mean relative error, {len(big):,} pairs > {BIG:,}",
            f"{mean:.2%}",
            "goal 5%",
            mean / 0.05,
        ),
        ("p95 relative error", f"{p(0.95):.2%}", "goal 5%", p(0.95) / 0.05),
        ("max relative error", f"{p(1.0):.2%}", "goal 5%", p(1.0) / 0.05),
        (
            "truth inside the 2-sigma bounds",
            f"{inside / max(len(big), 1):.1%}",
            "about 95%",
            inside / max(len(big), 1) / 0.95,
        ),
    ]
    print(
        f"{args.businesses:,} businesses, {len(keys):,} people, lg_k={args.lg_k}, "
        f"mean audience {statistics.fmean(len(m) for m in members):,.0f}, "
        f"{'all pairs' if args.all_pairs else 'pairs within each neighbourhood'}, "
        f"setup {setup:.0f} s"
    )
    print("| operation | figure | baseline | ratio (figure / baseline) |")
    print("|---|---:|---:|---:|")
    for name, figure, baseline, ratio in rows:
        print(f"| {name} | {figure} | {baseline} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
