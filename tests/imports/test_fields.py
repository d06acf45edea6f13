"""Cell parsers, checked against Decimal as the reference."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosspromo.imports import fields
from crosspromo.imports.fields import CellError


@given(
    st.integers(-(10**11), 10**11),
    st.sampled_from([",", "."]),
    st.sampled_from(["RUB", "JPY", "KWD"]),
)
def test_money_is_exact_for_any_amount(minor: int, separator: str, currency: str) -> None:
    digits = fields.precision(currency)
    text = str(Decimal(minor).scaleb(-digits)).replace(".", separator)
    assert fields.money(text, currency, allow_negative=True) == minor


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1 350,50", "RUB", 135050),
        ("0.5", "RUB", 50),
        ("100", "JPY", 100),
        ("1.250", "KWD", 1250),
        ("12.30", "JPY", None),
        ("1.234", "RUB", None),
        ("12a", "RUB", None),
        ("-5", "RUB", None),
    ],
)
def test_money_examples(text: str, currency: str, minor: int | None) -> None:
    if minor is None:
        with pytest.raises(CellError):
            fields.money(text, currency)
    else:
        assert fields.money(text, currency) == minor


def test_consent_and_dates() -> None:
    assert fields.consent("Да") == (True, None)
    assert fields.consent("нет") == (False, None)
    assert fields.consent("2025-02-03")[1].isoformat() == "2025-02-03"  # type: ignore[union-attr]
    with pytest.raises(CellError):
        fields.consent("maybe")
    assert (
        fields.moment("2025-03-14T10:00", "Europe/Moscow").utcoffset().total_seconds() == 3 * 3600
    )  # type: ignore[union-attr]
