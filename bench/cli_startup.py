"""`crosspromo --help` start-up: wall time and peak memory against `python -c pass`.

    python bench/cli_startup.py            # 10 runs of each, medians

Each run is a new interpreter (as a cashier's script starts one). Goal: under 0.3 s.
The ratio is the CLI's median over the bare interpreter's, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


WRAPPER = """
import resource, subprocess, sys, time
began = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
took = time.perf_counter() - began
print(took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run(command: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MB of one run of `command` (in a wrapper of its own)."""
    env = os.environ | {"PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], env=env, capture_output=True, check=True
    )
    took, kb = done.stdout.split()
    return float(took), int(kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="runs of each")
    args = parser.parse_args()
    sides = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "crosspromo --help": [sys.executable, "-m", "crosspromo", "--help"],
    }
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    peak: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.n):  # alternate, so both see the same machine
        for name, command in sides.items():
            took, mb = run(command)
            seconds[name].append(took)
            peak[name].append(mb)
    base = statistics.median(seconds["python -c pass"])
    print(f"{args.n} runs each, medians")
    print("| command | median | peak RSS | ratio to `python -c pass` |")
    print("|---|---:|---:|---:|")
    for name in sides:
        median = statistics.median(seconds[name])
        mb = statistics.median(peak[name])
        print(f"| `{name}` | {median:.3f} s | {mb:.0f} MB | {median / base:.1f} |")


if __name__ == "__main__":
    main()
