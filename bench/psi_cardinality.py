"""PSI cardinality of 100,000 vs 100,000 identifiers: crosspromo.overlap.psi vs the bare library.

    python bench/psi_cardinality.py [--items 100000] [--shared 30000] [--repeats 1]

Both runs do the same protocol with openmined-psi (fpr 1e-9, size only) on the same 64-hex keys:
the direct run calls the library's client and server objects in one process and passes protobuf
objects; the crosspromo run goes through `start` / `respond` / `finish`, so it also checks and
deduplicates the items, serializes and frames every message, saves and reloads the client state
as bytes, and checks the answer belongs to the request. Goal: crosspromo / direct < 1.2.
Each step is the fastest of `--repeats` runs, the two runs alternating.
"""

from __future__ import annotations

import argparse
import random
import time

import private_set_intersection.python as openmined

from crosspromo.overlap import psi


def direct(client_items: list[str], server_items: list[str]) -> tuple[int, list[float]]:
    t0 = time.perf_counter()
    client = openmined.client.CreateWithNewKey(False)
    request = client.CreateRequest(client_items)
    t1 = time.perf_counter()
    server = openmined.server.CreateWithNewKey(False)
    setup = server.CreateSetupMessage(psi.FPR, len(client_items), server_items)
    response = server.ProcessRequest(request)
    t2 = time.perf_counter()
    count = int(client.GetIntersectionSize(setup, response))
    t3 = time.perf_counter()
    return count, [t1 - t0, t2 - t1, t3 - t2]


def through_crosspromo(client_items: list[str], server_items: list[str]) -> tuple[int, list[float]]:
    t0 = time.perf_counter()
    state, request = psi.start(client_items)
    saved = state.to_bytes()
    t1 = time.perf_counter()
    payload = psi.respond(server_items, request)
    t2 = time.perf_counter()
    count = psi.finish(psi.ClientState.from_bytes(saved), payload)
    t3 = time.perf_counter()
    return count, [t1 - t0, t2 - t1, t3 - t2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--shared", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    maker = random.Random(1)
    pool = [f"{maker.getrandbits(256):064x}" for _ in range(2 * args.items - args.shared)]
    client_items = pool[: args.items]
    server_items = pool[args.items - args.shared :]
    truth = len(set(client_items) & set(server_items))

    best = {"direct": [float("inf")] * 3, "crosspromo": [float("inf")] * 3}
    for _ in range(args.repeats):
        for name, run in (("direct", direct), ("crosspromo", through_crosspromo)):
            count, steps = run(client_items, server_items)
            if count != truth:
                raise SystemExit(f"{name} counted {count}, expected {truth}")
            best[name] = [min(a, b) for a, b in zip(best[name], steps, strict=True)]

    print(
        f"PSI cardinality, {args.items:,} vs {args.items:,} identifiers, {truth:,} shared "
        f"(both runs counted it exactly), fpr {psi.FPR:g}"
    )
    print("| operation | crosspromo.overlap.psi | direct openmined-psi | ratio |")
    print("|---|---:|---:|---:|")
    names = ["client: start (blind own items)", "server: respond", "client: finish"]
    for i, name in enumerate(names):
        ours, theirs = best["crosspromo"][i], best["direct"][i]
        print(f"| {name} | {ours:.2f} s | {theirs:.2f} s | {ours / theirs:.3f} |")
    ours, theirs = sum(best["crosspromo"]), sum(best["direct"])
    print(f"| **total** | **{ours:.2f} s** | **{theirs:.2f} s** | **{ours / theirs:.3f}** |")


if __name__ == "__main__":
    main()
