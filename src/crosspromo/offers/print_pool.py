"""A big print on every core: coupons cut into chunks, rendered in a process pool, merged by pypdf.

Each chunk is a whole number of sheets rendered by `printing.coupon_sheet` in its own process
(the renderer is pure Python: threads would share one core); the parent merges the chunks'
pages in order as they finish. pypdf copies each chunk's font subset once, ~40 kB per chunk.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from crosspromo.offers.printing import GEOMETRY, Coupon, Layout, coupon_sheet

# Coupons per chunk: about four chunks per process, so progress moves and the cores finish
# together, but at most 1,000 (~1 s of work) and each costs ~0.1 s of set-up (fonts, output).
CHUNK = 1_000
# Up to this many coupons one process renders them at once: starting a pool (~0.5 s a process)
# costs more than it saves. The synchronous endpoint and small CLI prints stay in one process.
SMALL = 200
Render = Callable[[Sequence[Coupon], Layout, str], bytes]
Progress = Callable[[int, int], None]  # (coupons done, coupons in all)


class ChunkFailed(Exception):
    """One chunk could not be rendered; the message names the chunk and the cause."""


def render_chunk(coupons: Sequence[Coupon], layout: Layout, locale: str) -> bytes:
    """One chunk's PDF (a top-level function, so a pool process can be handed it)."""
    return coupon_sheet(coupons, layout=layout, locale=locale)


@dataclass(frozen=True)
class Chunk:
    index: int
    first: int  # position of its first coupon in the whole print
    coupons: Sequence[Coupon]


def chunk_size(count: int, processes: int) -> int:
    """About four chunks per process, at most CHUNK coupons each."""
    return min(CHUNK, max(1, -(-count // (4 * processes))))


def chunks(coupons: Sequence[Coupon], layout: Layout, size: int) -> list[Chunk]:
    """The coupons in chunks of whole sheets, so no sheet is left half-empty between chunks."""
    per_sheet = GEOMETRY[layout].columns * GEOMETRY[layout].rows
    size = max(per_sheet, size - size % per_sheet)
    return [
        Chunk(n, start, coupons[start : start + size])
        for n, start in enumerate(range(0, len(coupons), size))
    ]


def workers() -> int:
    """The cores this process may use (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def merge(parts: Sequence[bytes]) -> bytes:
    """The parts' pages in order, one PDF."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    writer.add_metadata({"/Creator": "crosspromo"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _failure(chunk: Chunk, exc: BaseException) -> ChunkFailed:
    last = chunk.first + len(chunk.coupons)
    return ChunkFailed(
        f"chunk {chunk.index + 1} (coupons {chunk.first + 1}–{last}) failed: "
        f"{type(exc).__name__}: {exc}"
    )


def render(
    coupons: Sequence[Coupon],
    *,
    layout: Layout = "a4",
    locale: str = "en",
    processes: int | None = None,
    size: int | None = None,
    progress: Progress | None = None,
    renderer: Render = render_chunk,
) -> bytes:
    """The coupons' PDF, chunks rendered on `processes` cores (default: all, one for a small
    print); raises ChunkFailed naming the chunk that failed."""
    processes = processes or (1 if len(coupons) <= SMALL else workers())
    parts = chunks(coupons, layout, size or chunk_size(len(coupons), processes))
    processes = min(processes, len(parts))
    total = len(coupons)
    if processes <= 1:  # one chunk or one core: no pool to start
        done_parts: list[bytes] = []
        for chunk in parts or [Chunk(0, 0, [])]:
            try:
                done_parts.append(renderer(chunk.coupons, layout, locale))
            except Exception as exc:
                raise _failure(chunk, exc) from exc
            if progress:
                progress(chunk.first + len(chunk.coupons), total)
        return done_parts[0] if len(done_parts) == 1 else merge(done_parts)
    # spawn, not fork: the parent may hold database connections and other threads' locks.
    context = multiprocessing.get_context("spawn")
    results: dict[int, bytes] = {}
    done = 0
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        running: dict[Future[bytes], Chunk] = {
            pool.submit(renderer, chunk.coupons, layout, locale): chunk for chunk in parts
        }
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                chunk = running.pop(future)
                broke = future.exception()
                if broke is not None:
                    for other in running:
                        other.cancel()
                    raise _failure(chunk, broke) from broke
                results[chunk.index] = future.result()
                done += len(chunk.coupons)
                if progress:
                    progress(done, total)
    return merge([results[n] for n in range(len(parts))])
