"""Partner suggestions: hard filters, then a score from explainable criteria, each in [0, 1].

Candidates are scored together with numpy; reasons are written only for the ones shown.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from crosspromo.businesses.models import Business
from crosspromo.customers.models import Customer
from crosspromo.db import utcnow
from crosspromo.errors import NotFound
from crosspromo.matching import (
    aggregates,
    feedback,
    learned,
    posterior,
    reach,
    relations,
    shared_frames,
)
from crosspromo.matching.explain import (
    AFTER,
    BALANCE,
    BEFORE,
    CLOSE,
    CLOSED,
    COMPETITOR,
    COMPLEMENTS,
    COMPLEMENTS_PLAIN,
    DATA_EITHER,
    DATA_FIRST,
    DATA_FIRST_ONE,
    DATA_LIFT,
    DATA_NO_LIFT,
    FAR_TIER,
    FAR_TIER_PROVEN,
    FIRST_SHARE,
    LEARNED_LIFT,
    LEARNED_SMALL,
    NEAR_TIER,
    NO_PLACE,
    NO_REASON,
    ONLINE,
    ONLINE_OFFLINE,
    ORDER_OVERRULED,
    ORDER_WORDS,
    OVERLAP,
    OVERLAP_EXPECTED,
    PLACE_UNKNOWN,
    RECORD_PAIR,
    RECORD_WORKED,
    RUNNING_NOW,
    SAME_TIER,
    SELF,
    SOURCE_BOTH,
    SOURCE_CURATED,
    SOURCE_DATA,
    SWITCHING,
    TOGETHER,
    TOO_FAR,
    Category,
    Note,
    Phrase,
    Reason,
)
from crosspromo.matching.models import FrameVersion
from crosspromo.overlap.service import rounded
from crosspromo.settings import get_settings

CRITERIA = (
    "complementarity",
    "overlap",
    "price",
    "cycle",
    "distance",
    "balance",
    "channel",
    "record",
)
DIRECTIONS = ("unknown", "before", "after", "together")
CYCLE_SCORE = {"before": 1.0, "together": 0.8, "unknown": 0.5, "after": 0.3}
CYCLE_BY_CODE = np.array([CYCLE_SCORE[d] for d in DIRECTIONS])
EARTH_KM = 6371.0
PRICE_FIT = np.array([1.0, 0.85, 0.2, 0.0])  # by the gap in price tiers
NEAR_KM = 10.0  # closeness falls to about a third at this distance (a city crossed by car)
FAR_TIER_FACTOR = 0.8
PROVEN_LIFT = 2.0


def _category_record(history: feedback.Record, mine: str, theirs: str) -> float:
    found = history.of_category(mine, theirs)
    return found[0] if found is not None else 0.5


def _beliefs(
    session: Session, mine: str, city: str | None, codes: Sequence[str]
) -> list[posterior.Belief]:
    """One belief per candidate category, cached until the next learning run."""
    version = aggregates.version(session)
    key = (str(session.get_bind().engine.url), mine, (city or "").strip().casefold(), version)
    hit = _BELIEFS.get(key)
    if hit is not None and hit[0] == tuple(codes):
        return hit[1]
    found = aggregates.for_category(session, mine, city)
    result = [
        posterior.believe(mine, code, found.get(code))
        if code in found or relations.between(mine, code) is not None
        else posterior.NOTHING
        for code in codes
    ]
    if len(_BELIEFS) > 1000:
        _BELIEFS.clear()
    _BELIEFS[key] = (tuple(codes), result)
    return result


_BELIEFS: dict[tuple[Any, ...], tuple[tuple[str, ...], list[posterior.Belief]]] = {}


@dataclass
class Suggestion:
    business: Business
    score: float
    criteria: dict[str, float]
    direction: str
    overlap: int | None
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)
    rank: int = 0
    source: str = "none"  # which decided the relation and direction: curated, data, both

    def to_dict(self, locale: str) -> dict[str, Any]:
        b = self.business
        return {
            "business": {
                "id": str(b.id),
                "slug": b.slug,
                "name": b.name,
                "category": b.category,
                "category_name": Category(b.category).name(locale),
                "price_tier": b.price_tier,
                "city": b.city,
            },
            "score": round(self.score, 4),
            "criteria": {k: round(v, 4) for k, v in self.criteria.items()},
            "direction": self.direction,
            "source": self.source,
            "overlap": self.overlap,
            "reasons": [r.render(locale) for r in self.reasons],
            "warnings": [w.render(locale) for w in self.warnings],
        }


def weights() -> dict[str, float]:
    """The default criteria weights (settings): the prior of the fitted ones."""
    s = get_settings()
    return {name: float(getattr(s, f"match_weight_{name}")) for name in CRITERIA}


def current_weights(session: Session) -> dict[str, float]:
    """The weights refitted from results by the worker, else the defaults."""
    fitted = (aggregates.taught(session) or {}).get("weights")
    defaults = weights()
    if not fitted:
        return defaults
    return {k: float(fitted.get(k, v)) for k, v in defaults.items()}


def pair_criteria() -> Callable[[Session, Business, Business], dict[str, float]]:
    """Criteria of (business, partner) pairs, scoring each business once (for refitting)."""
    seen: dict[uuid.UUID, _Scored] = {}

    def criteria(session: Session, business: Business, partner: Business) -> dict[str, float]:
        if business.id not in seen:
            if len(seen) > 200:
                seen.clear()
            seen[business.id] = _score(session, business, None)
        scored = seen[business.id]
        i = scored.frame.index.get(partner.id)
        if i is None:
            return {k: 0.5 for k in CRITERIA}
        return {k: float(v[i]) for k, v in scored.criteria.items()}

    return criteria


def _audience_row(values: Any) -> int:
    return int(sum(int(x or 0) for x in values))


def _audience(b: Any) -> int:
    return int(
        sum(
            x or 0
            for x in (
                b.customers_per_month,
                b.newsletter_subscribers,
                b.social_followers,
                b.site_visitors_per_month,
            )
        )
    )


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle (haversine) distance; works on numbers and numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(a))


@dataclass
class _Frame:
    """Candidate columns as arrays, one row per business."""

    ids: Sequence[uuid.UUID]  # a list; an object array in a frame made by `take`
    category: Sequence[str]  # likewise
    codes: list[str]  # distinct categories; cat_idx points into it
    cat_idx: np.ndarray
    index: dict[uuid.UUID, int]
    tier: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    online: np.ndarray
    open: np.ndarray
    audience: np.ndarray
    discovery: np.ndarray
    customers: np.ndarray
    by_lat: Any = None  # rows by category, then latitude (`of_categories`), on first use
    objects: Any = None  # ids and categories as numpy arrays, made on first use

    def take(self, rows: np.ndarray, keep: Sequence[uuid.UUID]) -> _Frame:
        """The frame restricted to `rows` (ascending positions); `index` holds only `keep`."""
        index = {}
        for bid in keep:
            i = self.index.get(bid)
            if i is not None:
                at = int(np.searchsorted(rows, i))
                if at < len(rows) and rows[at] == i:
                    index[bid] = at
        if self.objects is None:
            self.objects = (np.array(self.ids, dtype=object), np.array(self.category, dtype=object))
        ids, category = self.objects
        return _Frame(
            ids=ids[rows],  # no list: only the few shown are ever looked at
            category=category[rows],
            codes=self.codes,
            cat_idx=self.cat_idx[rows],
            index=index,
            tier=self.tier[rows],
            lat=self.lat[rows],
            lon=self.lon[rows],
            online=self.online[rows],
            open=self.open[rows],
            audience=self.audience[rows],
            discovery=self.discovery[rows],
            customers=self.customers[rows],
        )

    def box(self, me: int, radius_km: float) -> _Box:
        """The latitude band and longitude span that hold the circle around row `me`."""
        angle = radius_km / EARTH_KM * (1 + 1e-9)
        lat0, lon0 = float(self.lat[me]), float(self.lon[me])
        dlat = math.degrees(angle) + 1e-9
        phi = math.radians(abs(lat0))
        dlon = None  # the circle reaches a pole: every longitude
        if angle < math.pi / 2 - phi - 1e-6:
            # The circle's widest longitude span at our latitude (spherical trigonometry).
            dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(phi)))) + 1e-9
        return _Box(lat0 - dlat, lat0 + dlat, lon0, dlon)

    def inside(self, rows: np.ndarray, box: _Box) -> np.ndarray:
        """Mask of `rows` inside the box (a little more than the circle: haversine decides)."""
        lat = self.lat[rows]
        mask = (lat >= box.south) & (lat <= box.north)  # no place (NaN): never inside
        if box.dlon is not None:
            mask &= np.abs((self.lon[rows] - box.lon0 + 180.0) % 360.0 - 180.0) <= box.dlon
        return mask

    def near(self, me: int, radius_km: float) -> np.ndarray:
        """Mask of rows within `radius_km` of row `me` or a little more (haversine decides)."""
        return self.inside(np.arange(len(self.ids)), self.box(me, radius_km))

    def of_categories(self, codes: np.ndarray, box: _Box | None) -> np.ndarray:
        """Rows of these category codes in the box's latitude band or online (all: no box).

        Rows are grouped by category and sorted by latitude within each, once per frame, so
        a band is two binary searches per category: the rows of unrelated categories and far
        away are never touched.
        """
        if self.by_lat is None:
            order = np.lexsort((self.lat, self.cat_idx))  # NaN (no place) last in each
            cats = self.cat_idx[order]
            online = order[self.online[order]]
            bounds = np.arange(len(self.codes) + 1)
            self.by_lat = (
                order,
                self.lat[order],
                np.searchsorted(cats, bounds),
                online,
                np.searchsorted(self.cat_idx[online], bounds),
            )
        order, lats, starts, online, online_starts = self.by_lat
        parts = []
        for c in codes.tolist():
            lo, hi = int(starts[c]), int(starts[c + 1])
            if box is None:
                parts.append(order[lo:hi])
                continue
            band = lats[lo:hi]
            a = lo + int(np.searchsorted(band, box.south, "left"))
            b = lo + int(np.searchsorted(band, box.north, "right"))
            parts.append(order[a:b])
            away = online[online_starts[c] : online_starts[c + 1]]  # online, outside the band
            lat = self.lat[away]
            parts.append(away[~((lat >= box.south) & (lat <= box.north))])
        if not parts:
            return np.empty(0, dtype=np.intp)
        return np.sort(np.concatenate(parts))  # the parts never overlap


@dataclass(frozen=True)
class _Box:
    south: float
    north: float
    lon0: float
    dlon: float | None  # half the longitude span; None: every longitude


_CACHE: dict[str, tuple[tuple[Any, ...], _Frame]] = {}
_STAMPED = "crosspromo.matching.stamped"  # session.info: the transaction that stamped already


def frame_changed(session: Session, subject: Any) -> None:
    """Follower of `events.BUSINESSES_CHANGED`: every process's frame is now out of date.

    Once per transaction: an import of many businesses updates the row once. On PostgreSQL
    the row stays locked until the writer commits, so concurrent writers of businesses take
    turns at that one update; readers never wait.
    """
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is not None and session.info.get(_STAMPED) is transaction:
        return
    session.execute(
        update(FrameVersion)
        .where(FrameVersion.id == 1)
        .values(stamp=uuid.uuid4(), changed_at=utcnow())
    )
    session.info[_STAMPED] = transaction


def _version(session: Session) -> tuple[Any, ...]:
    """What the candidate arrays were built from: two index look-ups, cheap on every request.

    The stamp changes with every write that tells (`frame_changed`); the newest
    `updated_at` also notices a business written without telling.
    """
    found = session.execute(_VERSION).first()
    return tuple(found) if found is not None else (None, None)


# Built once: every request runs them, and building a statement costs more than running these.
_SHOWN = select(Business).where(Business.id.in_(bindparam("ids", expanding=True)))
_VERSION = select(
    FrameVersion.stamp, select(func.max(Business.updated_at)).scalar_subquery()
).where(FrameVersion.id == 1)


def cached_frame(session: Session, *, refresh: bool = False) -> _Frame:
    """Candidate arrays, rebuilt only when businesses or their customers changed."""
    key = str(session.get_bind().engine.url)
    # Read before the rows: a change committed in between only costs one more rebuild.
    version = _version(session)
    hit = _CACHE.get(key)
    if not refresh and hit is not None and hit[0] == version:
        return hit[1]
    # One rebuild at a time: the requests that arrive meanwhile wait for it and share it,
    # instead of each reading every business again.
    with _BUILDING:
        hit = _CACHE.get(key)
        if not refresh and hit is not None and hit[0] == version:
            return hit[1]
        redis_url = get_settings().redis_url
        if redis_url and not refresh:
            frame = shared_frames.shared(redis_url, version, lambda: _frame(session), _Frame)
        else:
            frame = _frame(session)
        _CACHE[key] = (version, frame)
        return frame


_BUILDING = threading.Lock()


def _frame(session: Session) -> _Frame:
    counts = dict(
        session.execute(
            select(Customer.business_id, func.count()).group_by(Customer.business_id)
        ).all()
    )
    rows = session.execute(
        select(
            Business.id,
            Business.category,
            Business.price_tier,
            Business.lat,
            Business.lon,
            Business.online_only,
            Business.open_to_partnerships,
            Business.customers_per_month,
            Business.newsletter_subscribers,
            Business.social_followers,
            Business.site_visitors_per_month,
            Business.allow_overlap_discovery,
            Business.city,
        )
    ).all()
    lat, lon = _located(rows)
    category = [r[1] for r in rows]
    codes, cat_idx = np.unique(np.array(category, dtype=object), return_inverse=True)
    ids = [r[0] for r in rows]
    return _Frame(
        ids=ids,
        category=category,
        codes=[str(c) for c in codes],
        cat_idx=cat_idx.astype(np.int32),
        index={bid: i for i, bid in enumerate(ids)},
        tier=np.array([r[2] for r in rows], dtype=np.int8),
        lat=lat,
        lon=lon,
        online=np.array([r[5] for r in rows], dtype=bool),
        open=np.array([r[6] for r in rows], dtype=bool),
        audience=np.array([_audience_row(r[7:11]) for r in rows], dtype=float),
        discovery=np.array([r[11] for r in rows], dtype=bool),
        customers=np.array([counts.get(r[0], 0) for r in rows], dtype=float),
    )


def _located(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates; a business without them stands at the centre of the others in its city.

    A new owner types a city, not a latitude: without this, nothing is ever near enough.
    """
    lat = np.array([r[3] if r[3] is not None else np.nan for r in rows], dtype=float)
    lon = np.array([r[4] if r[4] is not None else np.nan for r in rows], dtype=float)
    city = np.array([(r[12] or "").strip().casefold() for r in rows], dtype=object)
    missing = np.isnan(lat) | np.isnan(lon)
    for name in set(city[missing]) - {""}:
        known = (city == name) & ~missing
        if known.any():
            here = missing & (city == name)
            lat[here] = lat[known].mean()
            lon[here] = lon[known].mean()
    return lat, lon


@dataclass
class _Scored:
    frame: _Frame
    me: int
    criteria: dict[str, np.ndarray]
    score: np.ndarray
    direction: np.ndarray
    masks: dict[str, np.ndarray]
    km: np.ndarray
    shared: np.ndarray
    pairs: dict[uuid.UUID, learned.PairView]
    radius: float
    located: bool
    beliefs: list[posterior.Belief]
    proven: np.ndarray
    history: feedback.Record
    reach_pairs: int = 0  # business pairs behind the estimated overlap (0: not estimated)


@dataclass
class _Inputs:
    """What scoring one business needs besides the candidates' arrays: read once a request."""

    frame: _Frame  # every business
    me: int
    pairs: dict[uuid.UUID, learned.PairView]
    beliefs: list[posterior.Belief]  # by category code
    strength: np.ndarray  # by category code
    direction_cat: np.ndarray
    competes_cat: np.ndarray
    history: feedback.Record
    record_cat: np.ndarray
    weights: dict[str, float]
    reach: dict[str, Any] | None  # how sharing falls with distance and price (matching.reach)
    lift_cat: np.ndarray  # the usable category lift by category code (1 without figures)
    radius: float


def _inputs(session: Session, business: Business, radius_km: float | None) -> _Inputs:
    frame = cached_frame(session)
    if business.id not in frame.index:
        frame = cached_frame(session, refresh=True)
    me = frame.index[business.id]
    mine = business.category
    allows = bool(frame.discovery[me])
    pairs = learned.for_business(session, business_id=business.id) if allows else {}
    # Per category, not per candidate: a few hundred beliefs instead of 10^5.
    beliefs = _beliefs(session, mine, business.city, frame.codes)
    taught = aggregates.taught(session)
    history = feedback.record_for(session, business.id, taught)
    return _Inputs(
        frame=frame,
        me=me,
        pairs=pairs,
        beliefs=beliefs,
        strength=np.array([bel.strength for bel in beliefs]),
        direction_cat=np.array([DIRECTIONS.index(bel.direction) for bel in beliefs], dtype=np.int8),
        competes_cat=np.array([relations.competes(mine, code) for code in frame.codes], dtype=bool),
        history=history,
        record_cat=np.array(
            [_category_record(history, mine, code) for code in frame.codes], dtype=float
        ),
        weights=current_weights(session),
        reach=(taught or {}).get("reach"),
        lift_cat=np.array(
            [
                max(b.figures.lift, 0.05) if b.figures and b.figures.lift > 0 else 1.0
                for b in beliefs
            ]
        ),
        radius=radius_km if radius_km is not None else get_settings().match_radius_km,
    )


def _score(
    session: Session,
    business: Business,
    radius_km: float | None,
    *,
    inputs: _Inputs | None = None,
    rows: np.ndarray | None = None,
) -> _Scored:
    """Every criterion and the score of each candidate (of `rows` only when given)."""
    given = inputs if inputs is not None else _inputs(session, business, radius_km)
    if rows is None:
        frame = given.frame
    else:
        keep = [business.id, *given.pairs, *given.history.own]
        frame = given.frame.take(rows, keep)
    n = len(frame.ids)
    me = frame.index[business.id]
    pairs, beliefs, history = given.pairs, given.beliefs, given.history
    comp = given.strength[frame.cat_idx]
    competes = given.competes_cat[frame.cat_idx]
    direction = given.direction_cat[frame.cat_idx]
    shared = np.zeros(n)
    learned_comp = np.zeros(n)
    proven = np.zeros(n, dtype=bool)  # the pair's own data shows a real lift
    both_allow = frame.discovery & frame.discovery[me]
    for partner, view in pairs.items():
        i = frame.index.get(partner)
        if i is None or not both_allow[i]:
            continue
        shared[i] = view.shared
        if view.small_sample:
            continue
        learned_comp[i] = posterior.lift_strength(view.lift)
        proven[i] = view.lift >= PROVEN_LIFT
        # The pair's own order, with the category belief as a prior of PRIOR_ORDER people.
        bel = beliefs[int(frame.cat_idx[i])]
        first = view.partner_first
        k, sample = first.share * first.sample, first.sample
        a0 = posterior.PRIOR_ORDER * bel.first_share
        b0 = posterior.PRIOR_ORDER * (1 - bel.first_share)
        low, high = posterior.beta_interval(a0 + k, b0 + sample - k)
        share = (a0 + k) / (a0 + b0 + sample)
        direction[i] = DIRECTIONS.index(posterior.order(share, low, high))
    smaller = np.minimum(frame.customers, frame.customers[me])
    overlap = np.where(
        both_allow & (smaller > 0),
        np.minimum(1.0, 4 * shared / np.maximum(smaller, 1)),
        0.5 * (~both_allow),
    )
    tier_gap = np.abs(frame.tier - frame.tier[me]).astype(float)
    price = PRICE_FIT[np.minimum(tier_gap, 3).astype(np.int8)]
    located = not (np.isnan(frame.lat[me]) or np.isnan(frame.lon[me]))
    online_pair = frame.online | frame.online[me]
    radius = given.radius
    if located:
        km = distance_km(frame.lat[me], frame.lon[me], frame.lat, frame.lon)
        km = np.where(np.isnan(km), np.inf, km)  # a partner whose place is unknown is not near
        # Closeness decays with the distance itself, whatever radius the owner searches in
        # (the radius only filters): a partner 3 km away beats one 12 km away in any search.
        distance = np.where(online_pair, 1.0, np.exp(-km / NEAR_KM))
    else:
        # Our own place is unknown: distance can neither rank nor filter; the owner is told.
        km = np.full(n, np.nan)
        distance = np.where(online_pair, 1.0, 0.5)
    if located and given.reach is not None:
        # Without both opt-ins the pair's own figures stay hidden: what the city's pairs say
        # about distance and price gaps estimates the overlap instead (matching.reach).
        guess = reach.expected(
            given.reach,
            km=km,
            gap=tier_gap,
            mine=float(frame.customers[me]),
            theirs=frame.customers,
            lift=given.lift_cat[frame.cat_idx],
        )
        estimate = np.where(smaller > 0, np.minimum(1.0, 4 * guess / np.maximum(smaller, 1)), 0.5)
        overlap = np.where(both_allow, overlap, estimate)
    audience = frame.audience
    balance = np.where(
        (audience > 0) & (audience[me] > 0),
        np.minimum(audience, audience[me]) / np.maximum(np.maximum(audience, audience[me]), 1),
        0.5,
    )
    if frame.online[me]:
        channel = np.where(frame.online, 1.0, 0.4)
    else:
        channel = np.where(frame.online, 0.7, 1.0)
    record = given.record_cat[frame.cat_idx]
    for partner, value in history.own.items():
        i = frame.index.get(partner)
        if i is not None:
            record[i] = value
    cycle = CYCLE_BY_CODE[direction]
    criteria = {
        "complementarity": np.maximum(comp, learned_comp),
        "overlap": overlap,
        "price": price,
        "cycle": cycle,
        "distance": distance,
        "balance": balance,
        "channel": channel,
        "record": record,
    }
    w = given.weights
    total = sum(w.values()) or 1.0
    score = sum(w[k] * v for k, v in criteria.items()) / total
    # Two or more tiers apart needs a reason: below a comparable same-tier partner unless the
    # pair's own customers prove the match.
    far_tier = (tier_gap >= 2) & ~proven
    score = np.where(far_tier, score * FAR_TIER_FACTOR, score)
    # Hard filters: itself, closed, too far (offline pairs), competitors in the same price class.
    far = (~online_pair) & (km > radius) if located else np.zeros(n, dtype=bool)
    rival = competes & (tier_gap < 2)
    closed = ~frame.open
    is_me = np.arange(n) == me
    score = np.where(is_me | closed | far | rival, -1.0, score)
    masks = {"me": is_me, "closed": closed, "far": far, "rival": rival}
    return _Scored(
        frame,
        me,
        criteria,
        score,
        direction,
        masks,
        km,
        shared,
        pairs,
        radius,
        located,
        beliefs,
        proven,
        history,
        int(given.reach["pairs"]) if located and given.reach is not None else 0,
    )


def _blocking(scored: _Scored, i: int) -> list[Reason]:
    """Why candidate i is filtered out (built on demand: most candidates are never asked about)."""
    f, m = scored.frame, scored.masks
    if m["me"][i]:
        return [Reason(SELF)]
    reasons = []
    if m["rival"][i]:
        mine = f.category[scored.me]
        reasons.append(
            Reason(COMPETITOR, {"partner": Category(f.category[i]), "mine": Category(mine)})
        )
    if m["closed"][i]:
        reasons.append(Reason(CLOSED))
    if m["far"][i]:
        km, radius = float(scored.km[i]), scored.radius
        if math.isfinite(km):
            reasons.append(Reason(TOO_FAR, {"km": _km(km), "radius": _km(radius)}))
        else:
            reasons.append(Reason(PLACE_UNKNOWN, {"radius": _km(radius)}))
    return reasons


def _km(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _explain(
    scored: _Scored, i: int, rank: int, business: Business, partner: Business
) -> Suggestion:
    f = scored.frame
    crit = {k: float(v[i]) for k, v in scored.criteria.items()}
    reasons: list[Reason] = []
    warnings: list[Reason] = []
    rel = relations.between(business.category, partner.category)
    belief = scored.beliefs[int(f.cat_idx[i])]
    names = {"partner": Category(partner.category), "mine": Category(business.category)}
    if rel is not None and rel.kind == "complements" and not belief.weakened:
        # A curated note tells the curated order: not shown where customers overruled it.
        if rel.note and not belief.order_overruled:
            note = Note({"en": rel.note, "ru": rel.note_ru})
            reasons.append(Reason(COMPLEMENTS, {**names, "note": note}, plain=COMPLEMENTS_PLAIN))
        else:
            reasons.append(Reason(COMPLEMENTS_PLAIN, names))
    reasons.extend(_learned(belief, names))
    view = scored.pairs.get(partner.id)
    show_overlap = bool(f.discovery[i] and f.discovery[scored.me])
    if view is not None and show_overlap:
        if view.small_sample:
            warnings.append(Reason(LEARNED_SMALL, {"n": view.shared}))
        elif view.lift > 1.5:
            reasons.append(Reason(LEARNED_LIFT, {"lift": _times(view.lift)}))
        if not view.small_sample:
            first = view.partner_first
            params = {
                "low": round(100 * first.low),
                "high": round(100 * first.high),
                "n": view.shared,
            }
            reasons.append(Reason(FIRST_SHARE, params))
        if not view.small_sample and view.switched_share > 0.3:
            warnings.append(Reason(SWITCHING, {"share": round(100 * view.switched_share)}))
    direction = DIRECTIONS[int(scored.direction[i])]
    if direction in ("before", "together"):
        reasons.append(Reason(BEFORE if direction == "before" else TOGETHER))
    elif direction == "after":
        warnings.append(Reason(AFTER))
    gap = abs(partner.price_tier - business.price_tier)
    if gap >= 2 and scored.proven[i]:
        reasons.append(Reason(FAR_TIER_PROVEN))
    else:
        (reasons if gap < 2 else warnings).append(
            Reason([SAME_TIER, NEAR_TIER, FAR_TIER, FAR_TIER][gap])
        )
    if partner.online_only or business.online_only:
        reasons.append(Reason(ONLINE))
    elif math.isfinite(scored.km[i]):
        reasons.append(Reason(CLOSE, {"km": _km(float(scored.km[i]))}))
    if business.online_only and not partner.online_only:
        warnings.append(Reason(ONLINE_OFFLINE))
    if not scored.located and not (partner.online_only or business.online_only):
        warnings.append(Reason(NO_PLACE))
    overlap = _shown(int(scored.shared[i])) if show_overlap else None
    if overlap:
        reasons.append(Reason(OVERLAP, {"n": overlap}))
    elif scored.reach_pairs and not show_overlap and crit["overlap"] >= 0.5:
        reasons.append(Reason(OVERLAP_EXPECTED, {"pairs": scored.reach_pairs}))
    mine_aud, theirs = _audience(business), _audience(partner)
    if mine_aud and theirs and max(mine_aud, theirs) / min(mine_aud, theirs) >= 2:
        warnings.append(
            Reason(BALANCE, {"n": min(10, round(max(mine_aud, theirs) / min(mine_aud, theirs)))})
        )
    if belief.source in SOURCE_TEXT:
        reasons.append(Reason(SOURCE_TEXT[belief.source]))
    reasons.extend(_record(scored.history, business, partner))
    return Suggestion(
        partner,
        float(scored.score[i]),
        crit,
        direction,
        overlap,
        reasons,
        warnings,
        rank,
        source=belief.source,
    )


SOURCE_TEXT = {
    posterior.CURATED: SOURCE_CURATED,
    posterior.DATA: SOURCE_DATA,
    posterior.BOTH: SOURCE_BOTH,
}


def _record(history: feedback.Record, business: Business, partner: Business) -> list[Reason]:
    """What past partnerships say: a running campaign, the pair's own, or similar ones."""
    if partner.id in history.running:
        return [Reason(RUNNING_NOW)]
    own = history.own.get(partner.id)
    if own is not None:
        return [Reason(RECORD_PAIR)] if own >= 0.7 else []
    similar = history.of_category(business.category, partner.category)
    if similar is not None and similar[0] >= 0.6:
        return [Reason(RECORD_WORKED, {"good": similar[1], "total": similar[2]})]
    return []


def _times(lift: float) -> str:
    return f"{lift:.1f}".rstrip("0").rstrip(".") if lift < 10 else f"{lift:.0f}"


def _learned(belief: posterior.Belief, names: dict[str, Category]) -> list[Reason]:
    """What everyone's shared customers say about the two categories, in plain words."""
    figures = belief.figures
    if figures is None:
        return []
    found: list[Reason] = []
    counts = {"n": f"{figures.shared:,}", "pairs": figures.candidate_pairs}
    if belief.weakened:
        found.append(Reason(DATA_NO_LIFT, {**names, **counts}))
    elif figures.lift >= posterior.LIFT_NOISE and belief.strength > 0.05:
        found.append(Reason(DATA_LIFT, {**names, "lift": _times(figures.lift)}))
    if figures.ordered and not belief.weakened and belief.strength > 0.05:
        counts["pairs"] = figures.business_pairs
        if belief.direction in ("before", "after"):
            low, high = posterior.beta_interval(
                figures.partner_first + 0.5, figures.shared - figures.partner_first + 0.5
            )
            low_pct, high_pct = round(100 * low), round(100 * high)
            if low_pct == high_pct:
                found.append(Reason(DATA_FIRST_ONE, {**names, **counts, "share": low_pct}))
            else:
                found.append(
                    Reason(DATA_FIRST, {**names, **counts, "low": low_pct, "high": high_pct})
                )
        else:
            found.append(Reason(DATA_EITHER, counts))
        if belief.order_overruled:
            words = Phrase(ORDER_WORDS[belief.curated_direction])
            found.append(Reason(ORDER_OVERRULED, {"curated": words}))
    return found


def _shown(shared: int, k: int = 10) -> int | None:
    """Shown only at or above k and rounded, so no single customer can be singled out."""
    return rounded(shared, k=k, rounding=5) if shared >= k else None


def _find(scored: _Scored, business_id: uuid.UUID) -> int:
    found = scored.frame.index.get(business_id)  # the whole frame: every business is indexed
    if found is None:
        raise NotFound("No such business.")
    return found


def suggest(
    session: Session, *, business: Business, limit: int = 10, radius_km: float | None = None
) -> list[Suggestion]:
    """The best partners for `business`, best first, each with its criteria and reasons."""
    given = _inputs(session, business, radius_km)
    if limit <= 0:
        return []
    every = min(given.weights.values(), default=0.0) < 0  # no bound holds: score them all
    rows = _reachable(given, np.arange(len(given.frame.ids))) if every else _likely(given)
    scored = _score(session, business, radius_km, inputs=given, rows=_with(rows, given.me))
    top = _top(scored, limit)
    if not every and _may_miss(given, scored, top, limit, np.flatnonzero(given.strength <= 0)):
        # Someone without a relation might still make the list: find them, and if the exact
        # bound of their categories still allows it, score everyone in reach.
        rest = np.setdiff1d(_reachable(given, np.arange(len(given.frame.ids))), rows, True)
        if rest.size and _may_miss(given, scored, top, limit, given.frame.cat_idx[rest]):
            everyone = _with(np.sort(np.concatenate([rows, rest])), given.me)
            scored = _score(session, business, radius_km, inputs=given, rows=everyone)
            top = _top(scored, limit)
    ids = [scored.frame.ids[i] for i in top]
    loaded = {b.id: b for b in session.scalars(_SHOWN, {"ids": ids})}
    return [
        _explain(scored, i, rank, business, loaded[scored.frame.ids[i]])
        for rank, i in enumerate(top, start=1)
    ]


def _may_miss(
    given: _Inputs, scored: _Scored, top: list[int], limit: int, categories: np.ndarray
) -> bool:
    """Whether a candidate of these (unrelated) categories could still enter the list."""
    if not categories.size:
        return False
    return len(top) < limit or bool(scored.score[top[-1]] <= _bound(given, categories))


def _top(scored: _Scored, limit: int) -> list[int]:
    """Positions of the best `limit` candidates that pass the filters, best first."""
    k = max(0, min(limit, len(scored.score)))
    if k == 0:
        return []
    # Only the best k need sorting: argpartition, then sort those few (ties by position).
    best = np.argpartition(-scored.score, k - 1)[:k]
    best = best[np.lexsort((best, -scored.score[best]))]
    return [int(i) for i in best if scored.score[i] >= 0]


def _with(rows: np.ndarray, me: int) -> np.ndarray:
    """`rows` (ascending, without `me`) with `me` in its place."""
    return np.insert(rows, np.searchsorted(rows, me), me)


def _box(given: _Inputs) -> _Box | None:
    """Where offline partners must be, or None when distance filters no one."""
    f, me = given.frame, given.me
    located = not (np.isnan(f.lat[me]) or np.isnan(f.lon[me]))
    return f.box(me, given.radius) if located and not f.online[me] else None


def _reachable(given: _Inputs, rows: np.ndarray) -> np.ndarray:
    """Those of `rows` (ascending) that can pass the hard filters, without the business itself.

    Open, not a rival within one tier, and within the radius (or online); the exact distance
    is decided when scoring.
    """
    f, me = given.frame, given.me
    keep = f.open[rows] & (rows != me)
    keep &= ~(given.competes_cat[f.cat_idx[rows]] & (np.abs(f.tier[rows] - f.tier[me]) < 2))
    box = _box(given)
    if box is not None:
        keep &= f.inside(rows, box) | f.online[rows]
    return rows[keep]


def _likely(given: _Inputs) -> np.ndarray:
    """Rows in reach whose category has a relation to ours, or with a pair or record of their own.

    Most businesses are out of reach (outside the radius, closed, rivals); of the rest, the
    categories with no relation to ours rarely make the top ten (see `_bound`). Ascending
    frame positions, without the business itself.
    """
    f = given.frame
    rows = f.of_categories(np.flatnonzero(given.strength > 0), _box(given))
    own = [f.index[p] for p in (*given.pairs, *given.history.own) if p in f.index]
    if own:
        rows = np.union1d(rows, np.array(own, dtype=np.intp))
    return _reachable(given, rows)


def _bound(given: _Inputs, categories: np.ndarray) -> float:
    """The highest score a candidate of these categories could reach on its category alone.

    No relation, no pair and no record of its own: complementarity 0 and, sharing no customers
    we know of, overlap at most 0.5 (any value when the city's reach model estimates it:
    `_score`); cycle and record come from their categories; the other criteria are at most 1.
    """
    f, me = given.frame, given.me
    located = not (np.isnan(f.lat[me]) or np.isnan(f.lon[me]))
    most = {k: 1.0 for k in CRITERIA}
    most["complementarity"] = 0.0
    most["overlap"] = 1.0 if located and given.reach is not None else 0.5
    most["cycle"] = float(CYCLE_BY_CODE[given.direction_cat[categories]].max())
    most["record"] = float(given.record_cat[categories].max())
    w = given.weights
    return sum(w[k] * most[k] for k in CRITERIA) / (sum(w.values()) or 1.0)


def why_not(
    session: Session, *, business: Business, other: Business, radius_km: float | None = None
) -> tuple[list[Reason], Suggestion | None]:
    """Why `other` is not suggested: blocking reasons, or its rank and criteria if none."""
    scored = _score(session, business, radius_km)
    i = _find(scored, other.id)
    blocked = _blocking(scored, i)
    if blocked:
        return blocked, None
    rank = int((scored.score > scored.score[i]).sum()) + 1
    suggestion = _explain(scored, i, rank, business, other)
    return [Reason(NO_REASON, {"rank": rank})], suggestion
