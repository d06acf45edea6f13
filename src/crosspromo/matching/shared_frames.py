"""The candidate frame shared between processes through Redis (CROSSPROMO_REDIS_URL).

Each app server keeps the frame in memory and reads its version (one row stamped by every
write that changes businesses or their customers) on each request; without Redis every
process builds its own copy after a change. With Redis, the first process to see a new
version builds it and stores it, and the others load it (a few milliseconds
instead of a scan of every business). Stored as NumPy arrays in `.npz` form, loaded with
`allow_pickle=False`: nothing in Redis can run code here.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger("crosspromo.matching")
TTL_SECONDS = 3600
ARRAYS = ("cat_idx", "tier", "lat", "lon", "online", "open", "audience", "discovery", "customers")


def key_for(version: tuple[Any, ...]) -> str:
    digest = hashlib.sha256(repr(version).encode()).hexdigest()[:32]
    return f"crosspromo:frame:{digest}"


def dump(frame: Any) -> bytes:
    out = io.BytesIO()
    np.savez(
        out,
        ids=np.frombuffer(b"".join(i.bytes for i in frame.ids), dtype=np.uint8),
        category=np.array(frame.category, dtype=str),
        codes=np.array(frame.codes, dtype=str),
        **{name: getattr(frame, name) for name in ARRAYS},
    )
    return out.getvalue()


def load(data: bytes, make: Callable[..., Any]) -> Any:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        raw = stored["ids"].tobytes()
        ids = [uuid.UUID(bytes=raw[k : k + 16]) for k in range(0, len(raw), 16)]
        return make(
            ids=ids,
            category=[str(c) for c in stored["category"]],
            codes=[str(c) for c in stored["codes"]],
            index={bid: i for i, bid in enumerate(ids)},
            **{name: stored[name] for name in ARRAYS},
        )


def shared(
    url: str, version: tuple[Any, ...], build: Callable[[], Any], make: Callable[..., Any]
) -> Any:
    """The frame for `version` from Redis, or built here and stored for the others."""
    import redis

    key = key_for(version)
    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            data = client.get(key)
            if isinstance(data, bytes):
                return load(data, make)
            frame = build()
            client.set(key, dump(frame), ex=TTL_SECONDS)
            return frame
        finally:
            client.close()
    except redis.exceptions.RedisError as exc:  # Redis down: each process builds its own
        log.warning("frame not shared through Redis: %s", type(exc).__name__)
        return build()
