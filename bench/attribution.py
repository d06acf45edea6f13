"""Attribution models on many customer paths vs reference implementations in the same run.

    python bench/attribution.py [--paths 200000 --keys 10 --seed 1]

Draws `--paths` random paths over `--keys` (partner, channel) keys (1 to 6 touches; the chance
to convert grows with some keys), then times
  * Markov: our exact first-order removal effects (absorbing chain, numpy) against the
    `ChannelAttribution` package's simulation on the same aggregated paths;
  * Shapley: our closed form against a brute-force enumeration of all 2^keys coalitions;
  * the five simple models, each one pass over the paths.
Prints one table: operation, our time, the baseline's time, the ratio (ours / baseline), and
the largest relative difference between the two results.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1] / "src"))

from crosspromo.measurement import attribution  # noqa: E402
from crosspromo.measurement.attribution import Path, Touch  # noqa: E402

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def draw(n: int, keys: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    partners = [uuid.UUID(int=i + 1) for i in range(max(1, keys // len(attribution.CHANNELS)))]
    pool = [(p, c) for p in partners for c in attribution.CHANNELS][:keys]
    strong = set(pool[:: max(1, len(pool) // 3)])
    paths = []
    for _ in range(n):
        steps = [rng.choice(pool) for _ in range(rng.randint(1, 6))]
        chance = 0.05 + 0.3 * bool(strong & set(steps))
        touches = tuple(Touch(p, c, T0 + timedelta(hours=4 * i)) for i, (p, c) in enumerate(steps))
        done = T0 + timedelta(hours=4 * len(steps)) if rng.random() < chance else None
        paths.append(Path(touches, done))
    return paths


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def brute_shapley(counts: Counter) -> dict:  # type: ignore[type-arg]
    players = sorted({k for seq, _ in counts for k in seq}, key=repr)
    n = len(players)
    by_set: Counter = Counter()  # type: ignore[type-arg]
    for (seq, converted), c in counts.items():
        if converted:
            by_set[frozenset(seq)] += c

    def value(coalition: frozenset) -> float:  # type: ignore[type-arg]
        return sum(c for s, c in by_set.items() if s <= coalition)

    found = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for combo in itertools.combinations(others, size):
                s = frozenset(combo)
                total += weight * (value(s | {player}) - value(s))
        found[player] = total
    return found


def channelattribution(counts: Counter) -> dict:  # type: ignore[type-arg]
    import ChannelAttribution as ca
    import pandas as pd

    labels = {key: f"k{i}" for i, key in enumerate({k for seq, _ in counts for k in seq})}
    names = {label: key for key, label in labels.items()}
    rows: dict[str, list[int]] = {}
    for (seq, converted), c in counts.items():
        rows.setdefault(" > ".join(labels[k] for k in seq), [0, 0])[0 if converted else 1] += c
    frame = pd.DataFrame([{"path": k, "conv": v[0], "null": v[1]} for k, v in rows.items()])
    result = ca.markov_model(frame, "path", "conv", var_null="null", verbose=False, flg_pro=False)
    return {
        names[label]: value
        for label, value in zip(result["channel_name"], result["total_conversions"], strict=True)
    }


def largest_gap(ours: dict, theirs: dict) -> float:  # type: ignore[type-arg]
    return max(abs(ours[k] - v) / max(abs(v), 1e-9) for k, v in theirs.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = draw(args.paths, args.keys, args.seed)
    counts = attribution.summarise(paths)
    rows = []
    ours_t, (ours, _) = timed(attribution.markov_removal, counts)
    base_t, theirs = timed(channelattribution, counts)
    rows.append(("Markov removal effect", ours_t, "ChannelAttribution", base_t, ours, theirs))
    ours_t, ours = timed(attribution.shapley, counts)
    base_t, theirs = timed(brute_shapley, counts)
    rows.append(("Shapley values", ours_t, "brute-force coalitions", base_t, ours, theirs))
    print(f"{args.paths:,} paths, {len(counts):,} distinct, {args.keys} keys")
    print("| operation | ours | baseline | baseline time | ratio | largest difference |")
    print("|---|---:|---|---:|---:|---:|")
    for name, t, base, bt, a, b in rows:
        gap = largest_gap(a, b)
        print(f"| {name} | {t:.3f} s | {base} | {bt:.3f} s | {t / bt:.3f} | {gap:.2%} |")
    for model in ("first", "last", "linear", "time_decay", "position"):
        t, _ = timed(attribution.credit, paths, model)
        print(f"| {model} (one pass) | {t:.3f} s | | | | |")


if __name__ == "__main__":
    main()
