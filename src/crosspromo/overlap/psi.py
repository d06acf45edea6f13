"""Private set intersection cardinality between two parties (OpenMined PSI, ECDH + GCS filter).

Three messages, each a small framed byte string that can travel as a file or an HTTP body:

1. the client calls `start(items)`: it keeps the returned `ClientState` (its private key: keep it
   secret) and sends the request, its items blinded with that key;
2. the server calls `respond(items, request)` with a fresh key of its own and sends back the
   payload: its items blinded and packed in a filter, and the client's items blinded once more
   and shuffled;
3. the client calls `finish(state, payload)` and gets the number of items in both sets.

What each side learns: the server learns the size of the client's set and nothing of its items;
the client learns the size of the intersection and the size of the server's set (the filter in
the payload is sized by it), but not which items are shared. Neither learns any item of the
other's set. Like every PSI cardinality protocol this is exact: a client that puts one chosen
identifier among junk learns whether that person is in the server's set, so answer only parties
you would tell a count, and not over and over.

Items are plain strings, compared byte for byte: both sides must normalise and hash identifiers
the same way (on one install, the keyed hashes of `crosspromo.identifiers`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import private_set_intersection.python as psi
from google.protobuf.message import DecodeError, Message

from crosspromo.errors import Invalid

FPR = 1e-9  # chance that a query of the client's size counts a false match at all
KEY_BYTES = 32
DIGEST_BYTES = 32
REQUEST_MAGIC = b"CPQ\x01"
RESPONSE_MAGIC = b"CPR\x01"
STATE_MAGIC = b"CPS\x01"


@dataclass(frozen=True)
class ClientState:
    """What the client keeps between `start` and `finish`; its key must not leave the client."""

    key: bytes = field(repr=False)
    request_digest: bytes
    size: int

    def to_bytes(self) -> bytes:
        """The state as bytes, to finish in another process; as secret as the key it holds."""
        return _pack(STATE_MAGIC, [self.key, self.request_digest, self.size.to_bytes(8, "big")])

    @classmethod
    def from_bytes(cls, data: bytes) -> ClientState:
        """The state `to_bytes` wrote; Invalid when the bytes are not one."""
        key, digest, size = _unpack(STATE_MAGIC, data, 3, "state")
        if len(key) != KEY_BYTES or len(digest) != DIGEST_BYTES or len(size) != 8:
            raise Invalid("Not a PSI client state: a field has the wrong length.", field="state")
        count = int.from_bytes(size, "big")
        if count < 1:
            raise Invalid("Not a PSI client state: the set size is 0.", field="state")
        return cls(key, digest, count)


def _pack(magic: bytes, parts: list[bytes]) -> bytes:
    """`magic` then each part behind its 4-byte big-endian length."""
    return magic + b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def _unpack(magic: bytes, data: bytes, count: int, what: str) -> list[bytes]:
    """Exactly `count` parts of a `pack`ed message; Invalid for anything else."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise Invalid(f"The PSI {what} must be bytes.", field=what)
    view = memoryview(data)
    if bytes(view[: len(magic)]) != magic:
        raise Invalid(f"Not a PSI {what} (wrong header).", field=what)
    parts: list[bytes] = []
    at = len(magic)
    for _ in range(count):
        if at + 4 > len(view):
            raise Invalid(f"The PSI {what} is cut short.", field=what)
        size = int.from_bytes(view[at : at + 4], "big")
        at += 4
        if at + size > len(view):
            raise Invalid(f"The PSI {what} is cut short.", field=what)
        parts.append(bytes(view[at : at + size]))
        at += size
    if at != len(view):
        raise Invalid(f"The PSI {what} has trailing bytes.", field=what)
    return parts


def _distinct(items: Iterable[str], what: str) -> list[str]:
    """The items once each, in first-seen order; a duplicate would be counted twice."""
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            raise Invalid(f"PSI {what} must be strings, not {type(item).__name__}.", field=what)
        seen[item] = None
    return list(seen)


def _parse(message: Message, raw: bytes, what: str) -> None:
    try:
        message.ParseFromString(raw)
    except DecodeError:
        raise Invalid(f"The PSI {what} is damaged.", field=what) from None


def start(items: Iterable[str]) -> tuple[ClientState, bytes]:
    """Client: blind the items; returns the state to keep and the request to send."""
    unique = _distinct(items, "items")
    if not unique:
        raise Invalid("Give at least one identifier to compare.", field="items")
    client = psi.client.CreateWithNewKey(False)
    request = client.CreateRequest(unique).SerializeToString()
    state = ClientState(
        bytes(client.GetPrivateKeyBytes()), hashlib.sha256(request).digest(), len(unique)
    )
    return state, _pack(REQUEST_MAGIC, [request])


def respond(items: Iterable[str], request: bytes) -> bytes:
    """Server: answer a request with a fresh key; the client will learn only the count."""
    (raw,) = _unpack(REQUEST_MAGIC, request, 1, "request")
    parsed = psi.Request()
    _parse(parsed, raw, "request")
    if parsed.reveal_intersection:
        raise Invalid("The request asks for the shared items; only their number is answered.")
    size = len(parsed.encrypted_elements)
    if size == 0:
        raise Invalid("The request holds no identifiers.", field="request")
    # A fresh key per answer: with a reused key, answers to two requests could be compared.
    server = psi.server.CreateWithNewKey(False)
    setup = server.CreateSetupMessage(FPR, size, _distinct(items, "items"))
    try:
        response = server.ProcessRequest(parsed)
    except RuntimeError as exc:
        raise Invalid(f"The PSI request is damaged: {exc}", field="request") from None
    return _pack(
        RESPONSE_MAGIC,
        [hashlib.sha256(raw).digest(), setup.SerializeToString(), response.SerializeToString()],
    )


def finish(state: ClientState, payload: bytes) -> int:
    """Client: the number of its items the server also holds."""
    digest, setup_raw, response_raw = _unpack(RESPONSE_MAGIC, payload, 3, "payload")
    if digest != state.request_digest:
        # With the wrong key the library silently answers 0; refuse instead.
        raise Invalid("This answer is for another request.", field="payload")
    setup, response = psi.ServerSetup(), psi.Response()
    _parse(setup, setup_raw, "payload")
    _parse(response, response_raw, "payload")
    if len(response.encrypted_elements) != state.size:
        raise Invalid("The answer does not match the request's size.", field="payload")
    try:
        client = psi.client.CreateFromKey(state.key, False)
        return int(client.GetIntersectionSize(setup, response))
    except RuntimeError as exc:
        raise Invalid(f"The PSI payload is damaged: {exc}", field="payload") from None
