"""Partner suggestions among 100,000 synthetic businesses: p95 latency vs brute-force numpy.

    python bench/suggestions.py [--businesses 100000] [--queries 30] [--http]

The service (`crosspromo.matching.service.suggest`) loads candidates from SQLite (cached
between calls while nothing changes), applies the hard filters, scores eight criteria and
writes reasons for the top 10. The baseline scores the same candidate arrays with plain numpy
(the same formulas, no filters, no reasons, no database). Goal: p95 within 3x of the baseline.
With --http, `GET /api/v1/partners/suggestions` is also timed through a real uvicorn server
(API keys, JSON, both languages' reasons) and compared with the in-process service time.
Goal (issue 13): p95 over HTTP under 50 ms.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

CATEGORIES = [
    "shop=bakery",
    "amenity=cafe",
    "amenity=restaurant",
    "shop=florist",
    "office=estate_agent",
    "craft=plasterer",
    "craft=window_construction",
    "shop=furniture",
    "shop=car",
    "office=insurance",
    "leisure=fitness_centre",
    "shop=nutrition_supplements",
    "shop=sports",
    "shop=beauty",
    "shop=hairdresser",
    "shop=pet",
    "amenity=veterinary",
    "tourism=hotel",
    "shop=travel_agency",
    "shop=clothes",
    "shop=shoes",
    "shop=jewelry",
    "shop=optician",
    "amenity=dentist",
]


def build(path: Path, n: int, seed: int = 1) -> list[uuid.UUID]:
    from sqlalchemy import insert

    from crosspromo.accounts.models import Workspace
    from crosspromo.businesses.models import Business
    from crosspromo.db import make_engine
    from crosspromo.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    workspace = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(n)]
    with engine.begin() as conn:
        conn.execute(insert(Workspace), [{"id": workspace, "name": "bench"}])
        rows = [
            {
                "id": bid,
                "workspace_id": workspace,
                "slug": f"b{i}",
                "name": f"Business {i}",
                "category": rng.choice(CATEGORIES),
                "price_tier": rng.randint(1, 4),
                "currency": "RUB",
                "country": "RU",
                "timezone": "Europe/Moscow",
                "lat": 55.5 + rng.random() * 0.5,
                "lon": 37.3 + rng.random() * 0.6,
                "customers_per_month": rng.randint(50, 5000),
                "tags": [],
                "online_only": rng.random() < 0.05,
                "open_to_partnerships": rng.random() < 0.9,
            }
            for i, bid in enumerate(ids)
        ]
        for start in range(0, n, 10_000):
            conn.execute(insert(Business), rows[start : start + 10_000])
    engine.dispose()
    return ids


def baseline(frame: object, me: int, strength: np.ndarray) -> np.ndarray:
    """Brute force: the same criteria over the same arrays, top 10 by argpartition."""
    from crosspromo.matching.service import distance_km

    f = frame
    comp = strength[f.cat_idx]  # type: ignore[attr-defined]
    price = np.array([1.0, 0.85, 0.2, 0.0])[np.abs(f.tier - f.tier[me])]  # type: ignore[attr-defined]
    km = distance_km(f.lat[me], f.lon[me], f.lat, f.lon)  # type: ignore[attr-defined]
    distance = np.exp(-km / 10)
    aud = f.audience  # type: ignore[attr-defined]
    balance = np.minimum(aud, aud[me]) / np.maximum(np.maximum(aud, aud[me]), 1)
    score = 0.3 * comp + 0.1 * price + 0.1 * distance + 0.05 * balance + 0.3
    return np.argpartition(-score, 10)[:10]


def _strength(mine: str, other: str) -> float:
    from crosspromo.matching import relations

    rel = relations.between(mine, other)
    return rel.strength if rel is not None and rel.kind == "complements" else 0.0


def over_http(path: Path, picks: list[uuid.UUID], rounds: int = 3) -> list[float]:
    """Seconds per GET /api/v1/partners/suggestions through uvicorn, after one warm-up each."""
    import socket
    import threading

    import httpx
    import uvicorn

    from crosspromo.accounts import service as accounts
    from crosspromo.accounts.models import Role
    from crosspromo.app import create_app
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.settings import Settings

    url = f"sqlite:///{path}"
    keys = {}
    with make_sessionmaker(make_engine(url))() as db:
        for bid in picks:
            keys[bid], _ = accounts.create_api_key(db, business_id=bid, role=Role.manager)
        db.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(database_url=url, secret_key="bench", var_dir=path.parent / "var")
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # create_app logs at INFO
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for k in range(rounds + 1):
            for bid in picks:
                began = time.perf_counter()
                response = client.get(
                    "/api/v1/partners/suggestions",
                    params={"business_id": str(bid), "radius_km": 15},
                    headers={"Authorization": f"Bearer {keys[bid]}"},
                )
                elapsed = time.perf_counter() - began
                assert response.status_code == 200, response.text
                if k:  # the first round warms the candidate arrays
                    times.append(elapsed)
    server.should_exit = True
    thread.join()
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--businesses", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--http", action="store_true", help="also time the HTTP endpoint")
    args = parser.parse_args()
    from crosspromo.businesses.models import Business
    from crosspromo.db import make_engine, make_sessionmaker
    from crosspromo.matching import service

    load = os.getloadavg()  # the machine is shared: say how busy it was
    path = Path(tempfile.mkdtemp(prefix="crosspromo-bench-")) / "suggest.db"
    ids = build(path, args.businesses)
    sessions = make_sessionmaker(make_engine(f"sqlite:///{path}"))
    rng = random.Random(7)
    picks = rng.sample(ids, args.queries)
    service_times, numpy_times = [], []
    with sessions() as db:
        service.suggest(db, business=db.get(Business, picks[0]), limit=10)  # warm the cache
        frame = service.cached_frame(db)
        for bid in picks:
            business = db.get(Business, bid)
            assert business is not None
            began = time.perf_counter()
            service.suggest(db, business=business, limit=10, radius_km=15)
            service_times.append(time.perf_counter() - began)
            strength = np.array([_strength(business.category, c) for c in frame.codes])
            began = time.perf_counter()
            baseline(frame, frame.index[bid], strength)
            numpy_times.append(time.perf_counter() - began)
    s95, n95 = p95(service_times), p95(numpy_times)
    print(f"suggestions among {args.businesses:,} businesses, {args.queries} queries")
    print("load average (1, 5, 15 min) at the start: {:.1f} {:.1f} {:.1f}".format(*load))
    print(f"{'operation':<34}{'p95 ms':>10}{'baseline p95 ms':>18}{'ratio':>8}")
    name = "service.suggest (top 10)"
    print(f"{name:<34}{s95 * 1000:>10.1f}{n95 * 1000:>18.1f}{s95 / n95:>8.1f}")
    s50, n50 = statistics.median(service_times), statistics.median(numpy_times)
    print(f"{'  (p50 ms; baseline: numpy p50)':<34}{s50 * 1000:>10.1f}{n50 * 1000:>18.1f}")
    if args.http:
        http = over_http(path, picks)
        h50, h95 = statistics.median(http), p95(http)
        name = "GET /api/v1/partners/suggestions"
        print(f"{name:<34}{h95 * 1000:>10.1f}{s95 * 1000:>18.1f}{h95 / s95:>8.1f}")
        print(f"{'  (HTTP p50 ms; baseline: service)':<34}{h50 * 1000:>10.1f}")
    print("load average at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
