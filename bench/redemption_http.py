"""Redemption over HTTP, 16 concurrent clients: the real app vs a bare FastAPI endpoint.

    python bench/redemption_http.py --url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/redemption_http.py --sqlite          # (the default without --url)

Both servers run under uvicorn in subprocesses (`--workers`, default 2: the machine has 2
cores, which the 16 asyncio clients of this process share) on the same fresh database
prepared as in `redemption_service.py`:

- **app**: `POST /api/v1/redemptions` of `crosspromo.app` with a cashier's API key: key look-up,
  the till's checks, then the redemption, its audit row and both rate-limit counts (raised by
  CROSSPROMO_TILL_RATE_LIMIT*, counted in the database as by default) in one transaction;
- **bare**: `POST /redeem` of `bare_app` below: FastAPI parsing the same JSON body, then the
  same raw writes as the baseline of `redemption_service.py` in one transaction.

Each side redeems its own N unique codes once; every answer must be 201. The table gives
requests per second, p50 and p99 latency, and the rate ratio. Goal: the app >= 0.7x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

HERE = Path(__file__).resolve().parent


class Body(BaseModel):
    """What the till sends (the bare endpoint parses it like the app does)."""

    business_id: uuid.UUID
    code: str
    order_minor: int


def bare_app() -> Any:
    """The baseline server: one endpoint, the raw SQL of one redemption, nothing else."""
    from fastapi import FastAPI
    from redemption_service import Setup, raw_redeem  # type: ignore[import-not-found]
    from starlette.responses import JSONResponse

    from crosspromo.db import make_engine

    given = json.loads(os.environ["BENCH_SETUP"])
    ids = {k: uuid.UUID(v) for k, v in given.items() if k.endswith("_id")}
    setup = Setup(**(given | ids))
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    app = FastAPI()

    @app.post("/redeem", status_code=201)
    def redeem(body: Body) -> JSONResponse:
        with engine.begin() as conn:
            redemption_id = raw_redeem(conn, setup, body.code)
        return JSONResponse({"id": str(redemption_id)}, status_code=201)

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(target: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    command += ["--app-dir", str(HERE)]
    server = subprocess.Popen(command, env=os.environ | env)
    deadline = time.monotonic() + 240  # a busy shared machine starts workers slowly
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{target} did not start")


async def fire(
    url: str, headers: dict[str, str], bodies: list[dict[str, Any]], clients: int
) -> tuple[float, list[float]]:
    """`clients` concurrent clients send the bodies once each; wall seconds, latencies."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            while True:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                began = time.perf_counter()
                response = await http.post(url, json=body)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began, latencies


def main() -> None:
    from redemption_service import fresh_database, prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="", help="a PostgreSQL server: postgresql://...")
    parser.add_argument("--sqlite", action="store_true", help="also (or only) on SQLite")
    parser.add_argument("-n", type=int, default=3000, help="redemptions per side")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="alternate the sides so often")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    engines = ([("PostgreSQL", args.url)] if args.url else []) + (
        [("SQLite", "")] if args.sqlite or not args.url else []
    )
    rows = []
    for engine_name, url in engines:
        with fresh_database(url) as target:
            total = args.n + args.warmup
            setup = prepare(target, 2 * total)
            secret = "bench-secret"
            env = {
                "CROSSPROMO_DATABASE_URL": target,
                "CROSSPROMO_SECRET_KEY": secret,
                "CROSSPROMO_TILL_RATE_LIMIT": "1000000/minute",
                "CROSSPROMO_TILL_RATE_LIMIT_PER_ADDRESS": "1000000/minute",
                "BENCH_DATABASE_URL": target,
                "BENCH_SETUP": json.dumps(
                    {
                        k: str(v) if isinstance(v, uuid.UUID) else v
                        for k, v in vars(setup).items()
                        if k != "codes"
                    }
                    | {"codes": []}
                ),
            }
            sides = {
                "app": ("crosspromo.app:create_app", "/api/v1/redemptions"),
                "bare": ("redemption_http:bare_app", "/redeem"),
            }
            codes = {"app": setup.codes[:total], "bare": setup.codes[total:]}
            headers = {
                "app": {"Authorization": f"Bearer {setup.cashier_key}"},
                "bare": {},
            }
            results: dict[str, tuple[float, list[float]]] = {k: (0.0, []) for k in sides}
            servers = {}
            try:
                for name, (target_app, _path) in sides.items():
                    port = free_port()
                    servers[name] = (serve(target_app, port, args.workers, env), port)
                bodies = {
                    name: [
                        {"business_id": str(setup.cafe_id), "code": c, "order_minor": 50_000}
                        for c in codes[name]
                    ]
                    for name in sides
                }
                # Warm up both, then alternate rounds so both sides see the same machine.
                step = -(-args.n // args.rounds)
                chunks = [(0, args.warmup)] + [
                    (args.warmup + i, min(args.warmup + i + step, total))
                    for i in range(0, args.n, step)
                ]
                for round_no, (start, end) in enumerate(chunks):
                    for name, (_, path) in sides.items():
                        endpoint = f"http://127.0.0.1:{servers[name][1]}{path}"
                        chunk = bodies[name][start:end]
                        wall, latencies = asyncio.run(
                            fire(endpoint, headers[name], chunk, args.clients)
                        )
                        if round_no:
                            so_far = results[name]
                            results[name] = (so_far[0] + wall, so_far[1] + latencies)
            finally:
                for server, _ in servers.values():
                    server.terminate()
                    server.wait(timeout=30)
        rows.append((engine_name, results))

    print(
        f"{args.n:,} redemptions per side, {args.clients} concurrent clients, "
        f"uvicorn --workers {args.workers}, 2 cores shared with the clients"
    )
    print("| engine | server | req/s | p50 | p99 | ratio (app / bare req/s) |")
    print("|---|---|---:|---:|---:|---:|")
    for engine_name, results in rows:
        rate = {k: len(v[1]) / v[0] for k, v in results.items()}
        for name, (_, latencies) in results.items():
            cut = sorted(latencies)
            p50 = statistics.median(cut) * 1e3
            p99 = cut[min(len(cut) - 1, int(len(cut) * 0.99))] * 1e3
            ratio = f"{rate['app'] / rate['bare']:.2f}" if name == "app" else ""
            label = "crosspromo app" if name == "app" else "bare FastAPI + raw SQL"
            print(
                f"| {engine_name} | {label} | {rate[name]:,.0f} | {p50:.1f} ms | "
                f"{p99:.1f} ms | {ratio} |"
            )


if __name__ == "__main__":
    main()
