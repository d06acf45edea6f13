"""Promo codes: random, unique, readable aloud, with a check character.

A code is an optional prefix and groups of characters from ALPHABET, e.g. ``CAFE-7KQ2-M9XP-4TRH``;
the last character of the last group is the check character.

Why 31 symbols and a weighted mod-31 sum
----------------------------------------
ALPHABET drops the look-alikes 0/O, 1/I/L, so it has 31 symbols, and 31 is prime. Every
character of the normalised code (prefix, random part and the check character itself) has a
value ``v`` and a position weight ``w``; the check character is chosen so that::

    sum(w_i * v_i) == 0  (mod 31)

with weights ``w_i = (i mod 30) + 1``, i.e. 1, 2, ..., 30, 1, 2, ... (never 0 mod 31).

* A single substitution at position i changes the sum by ``w_i * d`` where ``d = v' - v`` is in
  -30..30 and not 0. Both factors are non-zero mod 31, and 31 is prime, so the product is
  non-zero mod 31: the code no longer checks. Every single-character substitution is caught.
* Swapping adjacent different characters a, b at positions i, i+1 changes the sum by
  ``(w_{i+1} - w_i) * (a - b)``. Consecutive weights differ by 1 (or by -29 at the wrap from 30 to
  1), non-zero mod 31, and ``a - b`` is non-zero, so again the sum moves off 0: every adjacent
  transposition is caught, including one that moves the check character.

Neither holds for a composite modulus (e.g. 32 symbols: 2 * 16 = 0 mod 32) or for plain sums.
A random wrong code passes the check with probability 1/31; the 40+ random bits are what make
guessing a real code hopeless.

Prefix characters may be any of A-Z0-9 (the prefix is chosen by a person, e.g. ``LOFT``); they
are compared exactly and enter the sum with values from PREFIX_VALUES, so a code made for one
prefix seldom checks under another.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Literal

from crosspromo.errors import Conflict, Invalid

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31, prime
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
PREFIX_VALUES = {ch: i % BASE for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
LOOK_ALIKES = {"0": "O/0", "O": "O/0", "1": "1/I/L", "I": "1/I/L", "L": "1/I/L"}
MIN_BITS = 40
BITS_PER_CHAR = math.log2(BASE)

# Typed or scanned separators that normalize() drops: spaces of any kind, dashes, dots, slashes.
SEPARATORS = frozenset("-_./·‐‑‒–—―−")
# Cyrillic capitals that look like Latin ones; a cashier on a Russian keyboard layout types them.
HOMOGLYPHS = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")

Status = Literal["ok", "mistyped", "malformed"]
_PREFIX = re.compile(r"[A-Z0-9]{0,8}")


@dataclass(frozen=True)
class CodePattern:
    """How codes look: ``prefix`` then ``groups`` groups of ``group_size`` characters."""

    prefix: str = ""
    groups: int = 3
    group_size: int = 4
    separator: str = "-"

    def __post_init__(self) -> None:
        prefix = self.prefix.strip().upper()
        if not _PREFIX.fullmatch(prefix):
            raise Invalid("The prefix takes 0 to 8 letters A-Z or digits.", field="prefix")
        object.__setattr__(self, "prefix", prefix)
        if not 1 <= self.groups <= 10:
            raise Invalid("Use 1 to 10 groups.", field="groups")
        if not 1 <= self.group_size <= 10:
            raise Invalid("Use 1 to 10 characters per group.", field="group_size")
        if len(self.separator) > 3 or not all(
            ch in SEPARATORS or ch.isspace() for ch in self.separator
        ):
            raise Invalid(
                "The separator takes up to 3 of: space - _ . / (or nothing).", field="separator"
            )
        if self.bits < MIN_BITS:
            raise Invalid(
                f"{self.groups} x {self.group_size} characters give {self.random_chars} random "
                f"characters plus the check character, {self.bits:.1f} bits of randomness; "
                f"codes need at least {MIN_BITS} bits ({math.ceil(MIN_BITS / BITS_PER_CHAR) + 1} "
                "characters in all).",
                field="groups",
            )

    @property
    def length(self) -> int:
        """Characters after the prefix, the check character included."""
        return self.groups * self.group_size

    @property
    def random_chars(self) -> int:
        return self.length - 1

    @property
    def bits(self) -> float:
        return self.random_chars * BITS_PER_CHAR


DEFAULT = CodePattern()


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a typed code, with the reason a person can act on."""

    status: Status
    code: str  # the normalised text
    reason: str = ""


def _weighted(prefix: str, body: str) -> int:
    total = 0
    i = 0
    for ch in prefix:
        total += (i % 30 + 1) * PREFIX_VALUES[ch]
        i += 1
    for ch in body:
        total += (i % 30 + 1) * VALUES[ch]
        i += 1
    return total % BASE


def check_char(prefix: str, random_part: str) -> str:
    """The character that makes the weighted sum of prefix + random part + it zero mod 31."""
    weight = (len(prefix) + len(random_part)) % 30 + 1
    value = (-_weighted(prefix, random_part) * pow(weight, -1, BASE)) % BASE
    return ALPHABET[value]


def _random_parts(rng: Random, n: int) -> Callable[[], str]:
    # One draw below 31**n per code, then base-31 digits: uniform, one syscall with SystemRandom.
    top = BASE**n
    alphabet = ALPHABET

    def draw() -> str:
        x = rng.randrange(top)
        chars = []
        for _ in range(n):
            x, r = divmod(x, BASE)
            chars.append(alphabet[r])
        return "".join(chars)

    return draw


def generate(
    pattern: CodePattern,
    count: int,
    *,
    taken: Callable[[str], bool] | set[str] | None = None,
    rng: Random = secrets.SystemRandom(),
) -> list[str]:
    """`count` new formatted codes, unique among themselves and not in `taken`."""
    if not 0 <= count <= 1_000_000:
        raise Invalid("Generate 0 to 1,000,000 codes at a time.", field="count")
    is_taken: Callable[[str], bool]
    if taken is None:
        is_taken = _never
    elif isinstance(taken, set):
        is_taken = taken.__contains__
    else:
        is_taken = taken
    draw = _random_parts(rng, pattern.random_chars)
    prefix = pattern.prefix
    made: dict[str, None] = {}  # insertion-ordered set
    attempts = 0
    limit = 10 * count + 1000
    while len(made) < count:
        attempts += 1
        if attempts > limit:
            raise Conflict(
                f"Found only {len(made)} unused codes of {count} after {attempts - 1} tries; "
                "use a longer pattern or another prefix.",
                kind="codes-exhausted",
            )
        body = draw()
        code = format(prefix + body + check_char(prefix, body), pattern)
        if code in made or is_taken(code):
            continue
        made[code] = None
    return list(made)


def _never(_code: str) -> bool:
    return False


def normalize(text: str) -> str:
    """Upper case without spaces or separators: what a cashier types becomes what was printed."""
    text = unicodedata.normalize("NFKC", text).upper().translate(HOMOGLYPHS)
    return "".join(ch for ch in text if not (ch.isspace() or ch in SEPARATORS))


def format(normalized: str, pattern: CodePattern = DEFAULT) -> str:  # noqa: A001
    """Re-insert separators: prefix, then the groups, for display and printing."""
    prefix = pattern.prefix
    body = normalized[len(prefix) :] if prefix and normalized.startswith(prefix) else normalized
    size = pattern.group_size
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    if prefix and normalized.startswith(prefix):
        parts.insert(0, prefix)
    return pattern.separator.join(parts)


def explain(text: str, pattern: CodePattern | None = None) -> Verdict:
    """Check a typed or scanned code against the pattern and say what is wrong with it."""
    pattern = pattern or DEFAULT
    code = normalize(text)
    if not code:
        return Verdict("malformed", code, "The code is empty.")
    prefix = pattern.prefix
    if not code.startswith(prefix):
        if len(code) == pattern.length and all(ch in VALUES for ch in code):
            code = prefix + code  # the prefix is printed on every code; a cashier may skip it
        else:
            return Verdict("malformed", code, f"Codes of this offer start with {prefix}.")
    body = code[len(prefix) :]
    for ch in body:
        if ch in VALUES:
            continue
        if ch in LOOK_ALIKES:
            reason = f"Codes never contain {ch}: they leave out the look-alikes {LOOK_ALIKES[ch]}."
        else:
            reason = f"Codes never contain {ch!r}; they use {ALPHABET}."
        return Verdict("malformed", code, reason)
    if len(body) != pattern.length:
        expected = pattern.length + len(prefix)
        return Verdict(
            "malformed",
            code,
            f"The code has {len(code)} characters without separators; it should have {expected}.",
        )
    if _weighted(prefix, body) != 0:
        return Verdict("mistyped", code, "A character is mistyped: the check character fails.")
    return Verdict("ok", code)


def check(text: str, pattern: CodePattern | None = None) -> Status:
    """ "ok", "mistyped" (right shape, check character fails) or "malformed" (see `explain`)."""
    return explain(text, pattern).status
