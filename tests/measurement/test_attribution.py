"""Attribution: the simple models on hand examples, Markov against the `ChannelAttribution`
package, Shapley against a brute-force enumeration of coalitions, and paths from SQL on both
engines through the API and the CLI."""

from __future__ import annotations

import itertools
import json
import math
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from crosspromo.campaigns.models import Campaign
from crosspromo.measurement import attribution, audience, funnel
from crosspromo.measurement.attribution import Path, Touch
from crosspromo.measurement.audience_models import Arm
from tests.measurement.conftest import _customer, _sale

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)


def path(*steps: tuple[uuid.UUID, str, float], converted_after: float | None = None) -> Path:
    """A path of (partner, channel, hours after T0) converting `converted_after` hours after T0."""
    touches = tuple(Touch(p, c, T0 + timedelta(hours=h)) for p, c, h in steps)
    done = T0 + timedelta(hours=converted_after) if converted_after is not None else None
    return Path(touches, done)


HAND = [
    path((A, "email", 0), (A, "click", 24), (B, "visit", 48), converted_after=48),
    path((B, "visit", 0), (A, "redemption", 24), converted_after=24),
    path((A, "email", 0)),  # never converted: no credit from the simple models
    path((A, "click", 0), converted_after=0),
]


def test_first_and_last_touch() -> None:
    assert attribution.credit(HAND, "first") == {
        (A, "email"): 1.0,
        (B, "visit"): 1.0,
        (A, "click"): 1.0,
        (A, "redemption"): 0.0,
    }
    assert attribution.credit(HAND, "last") == {
        (B, "visit"): 1.0,
        (A, "redemption"): 1.0,
        (A, "click"): 1.0,
        (A, "email"): 0.0,
    }


def test_linear_and_position_based() -> None:
    found = attribution.credit(HAND, "linear")
    assert found[(A, "email")] == pytest.approx(1 / 3)
    assert found[(A, "click")] == pytest.approx(1 / 3 + 1)
    assert found[(B, "visit")] == pytest.approx(1 / 3 + 1 / 2)
    assert found[(A, "redemption")] == pytest.approx(1 / 2)
    assert attribution.position_weights(5) == pytest.approx([0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4])
    found = attribution.credit(HAND, "position")
    # three touches: 40 % first, 20 % middle, 40 % last; two touches: half each
    assert found[(A, "email")] == pytest.approx(0.4)
    assert found[(A, "click")] == pytest.approx(0.2 + 1)
    assert found[(B, "visit")] == pytest.approx(0.4 + 0.5)
    assert sum(found.values()) == pytest.approx(3)


def test_time_decay_halves_the_weight_each_half_life() -> None:
    found = attribution.credit(HAND, "time_decay", half_life=timedelta(hours=24))
    # path 1: touches 48 h, 24 h and 0 h before converting weigh 1/4, 1/2 and 1
    assert found[(A, "email")] == pytest.approx(0.25 / 1.75)
    assert found[(A, "click")] == pytest.approx(0.5 / 1.75 + 1)
    # path 2: 24 h and 0 h before weigh 1/2 and 1
    assert found[(B, "visit")] == pytest.approx(1 / 1.75 + 0.5 / 1.5)
    assert found[(A, "redemption")] == pytest.approx(1 / 1.5)
    assert sum(found.values()) == pytest.approx(3)


def random_counts(seed: int, n: int, channels: str) -> Counter[tuple[tuple[str, ...], bool]]:
    rng = random.Random(seed)
    counts: Counter[tuple[tuple[str, ...], bool]] = Counter()
    for _ in range(n):
        sequence = tuple(rng.choice(channels) for _ in range(rng.randint(1, 5)))
        chance = 0.05 + 0.25 * ("b" in sequence) + 0.1 * ("c" in sequence)
        counts[(sequence, rng.random() < chance)] += 1
    return counts


@pytest.mark.parametrize("seed", [1, 2])
def test_markov_matches_the_channelattribution_package(seed: int) -> None:
    pd = pytest.importorskip("pandas")
    ca = pytest.importorskip("ChannelAttribution")
    counts = random_counts(seed, 3000, "abcd")
    rows: dict[str, list[int]] = {}
    for (sequence, converted), n in counts.items():
        rows.setdefault(" > ".join(sequence), [0, 0])[0 if converted else 1] += n
    frame = pd.DataFrame([{"path": k, "conv": v[0], "null": v[1]} for k, v in rows.items()])
    theirs = ca.markov_model(
        frame, "path", "conv", var_null="null", out_more=True, verbose=False, flg_pro=False
    )
    expected = dict(
        zip(
            theirs["result"]["channel_name"],
            theirs["result"]["total_conversions"],
            strict=True,
        )
    )
    effects = dict(
        zip(
            theirs["removal_effects"]["channel_name"],
            theirs["removal_effects"]["removal_effect"],
            strict=True,
        )
    )
    ours, our_effects = attribution.markov_removal(counts)
    assert sum(ours.values()) == pytest.approx(sum(expected.values()))
    # ChannelAttribution simulates until results vary by less than 5 % between repetitions
    for channel, value in expected.items():
        assert ours[channel] == pytest.approx(value, rel=0.05)
    # its removal effects are on another scale; their proportions must agree
    ours_total, theirs_total = sum(our_effects.values()), sum(effects.values())
    for channel, value in effects.items():
        assert our_effects[channel] / ours_total == pytest.approx(value / theirs_total, rel=0.05)


def test_markov_on_a_chain_solved_by_hand() -> None:
    # start -> a always; a -> b or null; b -> conversion or null; 10 paths each kind
    counts: Counter[tuple[tuple[str, ...], bool]] = Counter(
        {(("a", "b"), True): 10, (("a", "b"), False): 10, (("a",), False): 20}
    )
    credited, effects = attribution.markov_removal(counts)
    # removing either channel breaks every converting path: both effects are 1, credit 5 / 5
    assert effects == pytest.approx({"a": 1.0, "b": 1.0})
    assert credited == pytest.approx({"a": 5.0, "b": 5.0})


def brute_force_shapley(counts: Counter[tuple[tuple[str, ...], bool]]) -> dict[str, float]:
    players = sorted({k for sequence, _ in counts for k in sequence})
    n = len(players)

    def value(coalition: frozenset[str]) -> float:
        return sum(
            count
            for (sequence, converted), count in counts.items()
            if converted and set(sequence) <= coalition
        )

    found: dict[str, float] = {}
    for player in players:
        others = [p for p in players if p != player]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in itertools.combinations(others, size):
                s = frozenset(coalition)
                total += weight * (value(s | {player}) - value(s))
        found[player] = total
    return found


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("abcde"), min_size=1, max_size=4).map(tuple),
            st.booleans(),
            st.integers(min_value=1, max_value=5),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_shapley_equals_brute_force_enumeration(paths: list[Any]) -> None:
    counts: Counter[tuple[tuple[str, ...], bool]] = Counter()
    for sequence, converted, n in paths:
        counts[(sequence, converted)] += n
    ours = attribution.shapley(counts)
    expected = brute_force_shapley(counts)
    assert ours == pytest.approx(expected)
    conversions = sum(n for (_, converted), n in counts.items() if converted)
    assert sum(ours.values()) == pytest.approx(conversions)  # efficiency


def test_unknown_model_is_refused() -> None:
    from crosspromo.errors import Invalid

    with pytest.raises(Invalid):
        attribution.credit(HAND, "magic")


# -- paths from the database ---------------------------------------------------------------


def test_paths_from_sql_and_the_treatment_arm(db: Session, touched: dict[str, Any]) -> None:
    bakery, cafe = touched["bakery"].id, touched["cafe"].id
    found = list(attribution.paths(db, campaign_id=uuid.UUID(touched["campaign_id"])))
    shapes = sorted(([(t.partner, t.channel) for t in p.touches], p.converted) for p in found)
    assert shapes == sorted(
        [
            (
                [(bakery, "issued"), (bakery, "email"), (bakery, "click"), (bakery, "redemption")],
                True,
            ),
            ([(bakery, "issued"), (bakery, "email"), (bakery, "visit")], True),
            ([(bakery, "issued"), (bakery, "email")], False),
            ([(bakery, "click")], False),
        ]
    )
    converted = sorted(p.converted_at for p in found if p.converted_at)
    base = touched["base"]
    assert converted == [base + timedelta(hours=2), base + timedelta(hours=4)]
    assert cafe not in {t.partner for p in found for t in p.touches}

    # a control group's treatment got the offer; the holdout did not and makes no path
    campaign = db.get(Campaign, uuid.UUID(touched["campaign_id"]))
    assert campaign is not None
    treated = _customer(db, bakery, 20, "t@example.com")
    held = _customer(db, bakery, 21, "h@example.com")
    coded = touched["people"][2]  # already has a personal code: no second `issued` touch
    arms = {treated.id: Arm.treatment, held.id: Arm.holdout, coded.id: Arm.treatment}
    audience.assign(db, campaign, bakery, arms, holdout_bp=5000)
    later = touched["base"] + timedelta(hours=8)
    _sale(db, cafe, _customer(db, cafe, 22, "t@example.com"), later, 20)
    _sale(db, cafe, _customer(db, cafe, 23, "h@example.com"), later, 21)
    db.commit()
    found = list(attribution.paths(db, campaign_id=campaign.id))
    assert len(found) == 5  # the four before and the treated customer's
    mine = [p for p in found if [t.channel for t in p.touches] == ["issued"] and p.converted]
    assert len(mine) == 1 and mine[0].converted_at == later
    assert mine[0].touches[0].partner == bakery
    issued = sum(1 for p in found for t in p.touches if t.channel == "issued")
    assert issued == 4  # three personal codes and the treated customer
    assert funnel.funnel(db, campaign_id=campaign.id).issued == 4  # the same four, once each


def test_api_and_cli(client: TestClient, touched: dict[str, Any], settings_env: Any) -> None:
    url = f"/api/v1/campaigns/{touched['campaign_id']}/attribution"
    bakery = str(touched["bakery"].id)
    last = client.get(url, params={"model": "last"}, headers=touched["cafe_owner"])
    assert last.status_code == 200, last.text
    body = last.json()
    assert (body["paths"], body["converting_paths"]) == (4, 2)
    credits = {(c["partner_id"], c["channel"]): c["conversions"] for c in body["credits"]}
    assert credits[(bakery, "redemption")] == 1.0
    assert credits[(bakery, "visit")] == 1.0
    assert credits[(bakery, "email")] == 0.0
    for model in attribution.MODELS:
        found = client.get(url, params={"model": model}, headers=touched["cafe_owner"]).json()
        assert sum(c["conversions"] for c in found["credits"]) == pytest.approx(2)
    assert client.get(url, params={"model": "x"}, headers=touched["cafe_owner"]).status_code == 422
    assert client.get(url, headers=touched["outsider_owner"]).status_code == 404
    assert client.get(url, headers=touched["cafe_cashier"]).status_code == 404

    from typer.testing import CliRunner

    from crosspromo.cli import app

    result = CliRunner().invoke(
        app, ["attribution", touched["campaign_id"], "--model", "shapley", "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["model"] == "shapley"
    assert printed["converting_paths"] == 2
    assert sum(c["conversions"] for c in printed["credits"]) == pytest.approx(2)
