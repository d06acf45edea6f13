"""Failover under load, long form: `python bench/failover.py --seconds 600 --users 32`.

The same run as tests/cluster/test_failover.py (which is the short, CI form): the local
topology from scripts/cluster.sh, mixed traffic through nginx with locust, app server 1 and
worker 1 killed with SIGKILL at 30% of the run and restarted; then the database is checked
against what the clients saw. Prints the report, including the error rate in the kill window.
Needs PostgreSQL, nginx, pgbouncer and redis-server (`make test` installs them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--users", type=int, default=32)
    args = parser.parse_args()
    # The run needs the test fixtures that build a partnership, a campaign and its offers.
    return subprocess.call(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "-s",
            "-q",
            str(ROOT / "tests" / "cluster" / "test_failover.py"),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "FAILOVER_SECONDS": str(args.seconds),
            "FAILOVER_USERS": str(args.users),
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
