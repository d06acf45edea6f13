"""Promo codes: uniqueness, shape, randomness floor, and what the check character catches."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspromo.errors import Conflict, Invalid
from crosspromo.offers import codes
from crosspromo.offers.codes import ALPHABET, CodePattern, check, explain, generate, normalize

PREFIXES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=8)


@st.composite
def patterns(draw: st.DrawFn, separators: list[str] | None = None) -> CodePattern:
    groups = draw(st.integers(1, 10))
    size = draw(st.integers(max(1, -(-10 // groups)), 10))  # at least 10 characters in all
    separator = draw(st.sampled_from(separators or ["-", " ", "", "_", "."]))
    return CodePattern(draw(PREFIXES), groups, size, separator)


@st.composite
def pattern_and_code(draw: st.DrawFn) -> tuple[CodePattern, str]:
    pattern = draw(patterns(["-"]))
    seed = draw(st.integers(0, 2**32))
    return pattern, generate(pattern, 1, rng=random.Random(seed))[0]


def test_alphabet_is_prime_and_has_no_look_alikes() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert all(31 % d for d in range(2, 31))
    assert not set("0O1IL") & set(ALPHABET)


def test_large_batch_is_unique_and_checks() -> None:
    """Its speed is measured in bench/codes.py, not here."""
    made = generate(CodePattern("CAFE"), 10_000)
    assert len(made) == len(set(made)) == 10_000
    assert all(check(code, CodePattern("CAFE")) == "ok" for code in made)


def test_default_format_looks_like_the_example() -> None:
    (code,) = generate(CodePattern("cafe"), 1)
    assert re.fullmatch(r"CAFE-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)


@settings(max_examples=60, deadline=None)
@given(pattern=patterns(), seed=st.integers(0, 2**32))
def test_shape_alphabet_and_check_per_pattern(pattern: CodePattern, seed: int) -> None:
    made = generate(pattern, 50, rng=random.Random(seed))
    assert len(set(made)) == 50
    for code in made:
        parts = code.split(pattern.separator) if pattern.separator else [code]
        if pattern.separator:
            groups = parts[1:] if pattern.prefix else parts
            assert [len(g) for g in groups] == [pattern.group_size] * pattern.groups
            assert parts[0] == (pattern.prefix or parts[0])
        flat = normalize(code)
        assert flat.startswith(pattern.prefix)
        body = flat[len(pattern.prefix) :]
        assert len(body) == pattern.groups * pattern.group_size
        assert set(body) <= set(ALPHABET)
        assert check(code, pattern) == "ok"
        assert codes.format(flat, pattern) == code


@pytest.mark.parametrize(
    ("groups", "size", "ok"),
    [(5, 2, True), (2, 5, True), (1, 10, True), (3, 3, False), (2, 4, False), (1, 9, False)],
)
def test_at_least_40_bits(groups: int, size: int, ok: bool) -> None:
    if ok:
        assert CodePattern(groups=groups, group_size=size).bits >= 40
    else:
        with pytest.raises(Invalid, match=r"bits of randomness; codes need at least 40 bits"):
            CodePattern(groups=groups, group_size=size)


@pytest.mark.parametrize(
    "kwargs",
    [{"prefix": "CAFÉ"}, {"prefix": "TOOLONGPREFIX"}, {"prefix": "A-B"}, {"separator": "x"}],
)
def test_pattern_refuses_bad_fields(kwargs: dict[str, str]) -> None:
    with pytest.raises(Invalid):
        CodePattern(**kwargs)  # type: ignore[arg-type]


def test_prefix_is_normalised_upper() -> None:
    assert CodePattern(" loft1 ").prefix == "LOFT1"


@settings(max_examples=40, deadline=None)
@given(pattern_and_code())
def test_every_single_substitution_is_mistyped(drawn: tuple[CodePattern, str]) -> None:
    pattern, code = drawn
    flat = normalize(code)
    start = len(pattern.prefix)
    for i in range(start, len(flat)):
        for ch in ALPHABET:
            if ch == flat[i]:
                continue
            wrong = flat[:i] + ch + flat[i + 1 :]
            assert check(wrong, pattern) == "mistyped", (code, i, ch)


@settings(max_examples=200, deadline=None)
@given(pattern_and_code())
def test_every_adjacent_transposition_is_mistyped(drawn: tuple[CodePattern, str]) -> None:
    pattern, code = drawn
    flat = normalize(code)
    for i in range(len(pattern.prefix), len(flat) - 1):
        if flat[i] == flat[i + 1]:
            continue
        swapped = flat[:i] + flat[i + 1] + flat[i] + flat[i + 2 :]
        assert check(swapped, pattern) == "mistyped", (code, i)


def test_long_codes_still_catch_everything() -> None:
    # 8 prefix + 100 characters: the weights wrap past 30, and must never be 0 mod 31.
    pattern = CodePattern("ABCDEFGH", 10, 10)
    flat = normalize(generate(pattern, 1, rng=random.Random(7))[0])
    for i in range(8, len(flat)):
        for ch in ALPHABET.replace(flat[i], ""):
            assert check(flat[:i] + ch + flat[i + 1 :], pattern) == "mistyped"
        if flat[i - 1] != flat[i] and i > 8:
            assert check(flat[: i - 1] + flat[i] + flat[i - 1] + flat[i + 1 :], pattern) != "ok"


@settings(max_examples=100, deadline=None)
@given(pattern_and_code(), st.sampled_from([" ", "  ", "-", " - ", "\t", "–"]))
def test_normalize_round_trip(drawn: tuple[CodePattern, str], sep: str) -> None:
    pattern, code = drawn
    flat = normalize(code)
    typed = sep.join(flat[i : i + 3] for i in range(0, len(flat), 3)).lower()
    assert normalize(typed) == flat
    assert normalize("  " + code + "\r\n") == flat  # a handheld scanner adds a newline
    assert codes.format(flat, pattern) == code
    assert normalize(codes.format(flat, pattern)) == flat
    assert check(typed, pattern) == "ok"


def test_cashier_typing() -> None:
    pattern = CodePattern("CAFE")
    (code,) = generate(pattern, 1, rng=random.Random(1))
    flat = normalize(code)
    assert check("cafe " + flat[4:].lower(), pattern) == "ok"
    assert check(code + "\n", pattern) == "ok"
    assert check(flat[4:], pattern) == "ok"  # the prefix may be left out
    assert explain(flat[4:], pattern).code == flat
    # Cyrillic look-alike capitals typed on a Russian layout count as the Latin letters.
    cyr = flat.translate(str.maketrans("ABEKMHPCTXY", "АВЕКМНРСТХУ"))
    assert check(cyr, pattern) == "ok"


@pytest.mark.parametrize("bad", ["0", "O", "1", "I", "L"])
def test_look_alikes_are_malformed_with_a_reason(bad: str) -> None:
    pattern = CodePattern("CAFE")
    (code,) = generate(pattern, 1, rng=random.Random(3))
    wrong = code[:-2] + bad + code[-1]
    verdict = explain(wrong, pattern)
    assert verdict.status == "malformed"
    assert f"never contain {bad}" in verdict.reason
    assert "look-alikes" in verdict.reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("CAFE-ABCD", "should have 16"),
        ("CAFE-ABCD-EFGH-JKMN-P", "should have 16"),
        ("BAR-ABCD-EFGH-JKMN", "start with CAFE"),
        ("CAFE-ABCD-EFGH-JK#N", "'#'"),
    ],
)
def test_malformed_reasons(text: str, words: str) -> None:
    verdict = explain(text, CodePattern("CAFE"))
    assert verdict.status == "malformed"
    assert words in verdict.reason


def test_check_defaults_to_the_default_pattern() -> None:
    (code,) = generate(CodePattern(), 1)
    assert check(code) == "ok"
    assert check(code[:-1] + ("2" if code[-1] != "2" else "3")) == "mistyped"


def test_taken_is_respected_set_and_callable() -> None:
    pattern = CodePattern()
    first = generate(pattern, 200, rng=random.Random(5))
    again = generate(pattern, 200, taken=set(first[:100]), rng=random.Random(5))
    assert not set(again) & set(first[:100])
    assert set(first[100:]) <= set(again)  # same draws, the taken ones skipped

    asked: list[str] = []

    def in_database(code: str) -> bool:
        asked.append(code)
        return code in first

    fresh = generate(pattern, 50, taken=in_database, rng=random.Random(5))
    assert not set(fresh) & set(first)
    assert len(asked) >= 250


def test_everything_taken_is_a_conflict_not_a_hang() -> None:
    with pytest.raises(Conflict, match="unused codes"):
        generate(CodePattern(), 5, taken=lambda _code: True)


def test_count_limits() -> None:
    assert generate(CodePattern(), 0) == []
    with pytest.raises(Invalid):
        generate(CodePattern(), -1)
