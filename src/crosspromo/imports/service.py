"""Import businesses, customers and transactions from owners' exports, all or nothing.

One pass streams the file: every row is validated and written to a temporary stage table.
Any bad line rejects the whole file (every error listed by line and column, the first 100
shown); otherwise one merge applies it. Re-importing the same file changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Column, String, Table, Uuid, select, update
from sqlalchemy.orm import Session

from crosspromo import events, locale_input
from crosspromo.accounts import service as accounts
from crosspromo.businesses import service as businesses
from crosspromo.businesses.models import Business
from crosspromo.businesses.schemas import BusinessCreate, BusinessUpdate
from crosspromo.customers.models import Customer
from crosspromo.errors import DomainError, FieldError, Invalid
from crosspromo.identifiers import (
    IdentifierError,
    identifier_hash,
    normalize_email,
    normalize_phone,
)
from crosspromo.imports import fields, mapping
from crosspromo.imports.fields import CellError
from crosspromo.imports.reader import FileProblem, Row, open_table
from crosspromo.imports.reader import Table as FileTable
from crosspromo.imports.staging import Stage, duplicates, merge, stage_table
from crosspromo.roles import Actor, Role
from crosspromo.sales import service as sales
from crosspromo.sales.models import Transaction

KINDS = ("businesses", "customers", "transactions")
SHOWN_ERRORS = 100
REQUIRED = {
    "businesses": ("id", "name", "category"),
    "customers": ("business", "customer"),
    "transactions": ("business", "id", "at", "amount"),
}
KNOWN = {
    "businesses": REQUIRED["businesses"]
    + (
        "price_tier",
        "city",
        "address",
        "lat",
        "lon",
        "phone",
        "email",
        "website",
        "avg_check",
        "currency",
        "country",
        "timezone",
        "customers_per_month",
        "newsletter_subscribers",
        "social_followers",
        "site_visitors_per_month",
        "description",
    ),
    "customers": REQUIRED["customers"]
    + ("email", "phone", "name", "marketing_consent", "first_seen"),
    "transactions": REQUIRED["transactions"] + ("customer", "currency", "items"),
}
Progress = Callable[[int, int, int], None]  # rows done, bytes read, total bytes


@dataclass
class LineError:
    line: int
    column: str
    reason: str
    header: str = ""  # the file's own name for the column, when a mapping renamed it

    def __str__(self) -> str:
        where = self.column
        if self.header and mapping.key(self.header) != mapping.key(self.column):
            where = f"{self.header} ({self.column})"
        return f"line {self.line}, column {where}: {self.reason}"


@dataclass
class Summary:
    kind: str
    filename: str
    encoding: str = ""
    delimiter: str | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[LineError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    # {header as the file writes it: our field, or "" when the column is not read}
    mapping: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, line: int, column: str, reason: str) -> None:
        self.error_count += 1
        self.bad_lines.add(line)
        if len(self.errors) < SHOWN_ERRORS:
            header = next((h for h, f in self.mapping.items() if f == column), "")
            self.errors.append(LineError(line, column, reason, header))

    def reject(self) -> None:
        """Count the lines at fault (each listed in `errors` while fewer than 100)."""
        self.rejected = len(self.bad_lines)
        self.inserted = self.updated = self.unchanged = 0
        self.errors.sort(key=lambda e: e.line)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["bad_lines"]
        data["ok"] = self.ok
        data["error_details"] = data.pop("errors")
        data["errors"] = [str(e) for e in self.errors]
        data["more_errors"] = max(0, self.error_count - len(self.errors))
        return data


class ImportRejected(DomainError):
    """The file was refused as a whole; `summary` lists why."""

    def __init__(self, summary: Summary) -> None:
        shown = "; ".join(str(e) for e in summary.errors[:3])
        more = summary.error_count - min(3, len(summary.errors))
        detail = f"The file was rejected and nothing was imported: {shown}" + (
            f" (and {more} more)" if more > 0 else ""
        )
        super().__init__(
            detail,
            kind="import-rejected",
            status=422,
            title="Import rejected",
            errors=[FieldError(e.column, e.reason, e.line) for e in summary.errors],
            extensions={"summary": summary.to_dict()},
        )
        self.summary = summary


@dataclass(frozen=True)
class Target:
    """What a row may refer to: a business the importer may write to."""

    id: uuid.UUID
    slug: str
    currency: str
    country: str
    timezone: str


def row_hash(*values: object) -> str:
    """A fingerprint of a row's clean values, to tell `unchanged` from `updated`."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _targets(session: Session, actor: Actor | None, only: str | None) -> dict[str, Target]:
    query = select(Business) if actor is None else businesses.accessible(actor)
    found: dict[str, Target] = {}
    for b in session.scalars(query):
        if actor is not None:
            role = businesses.role_in(actor, b)
            if role is None or not role.at_least(Role.manager):
                continue
        found[b.slug] = Target(b.id, b.slug, b.currency, b.country, b.timezone)
    if only is not None:
        if only not in found:
            raise Invalid(
                f"No business with id {only!r} that you may import into.", field="business"
            )
        return {only: found[only]}
    return found


def _apply_mapping(
    session: Session,
    table: FileTable,
    kind: str,
    summary: Summary,
    chosen: Mapping[str, str] | None,
    default_business: str | None,
) -> None:
    """Rename the file's columns to our fields: the remembered mapping for this business and
    file shape (else the suggestion), with the caller's chosen pairs laid over it."""
    headers = table.headers or list(table.columns)
    owner = businesses.get_by_slug(session, default_business) if default_business else None
    base, _ = mapping.starting_point(
        session,
        business_id=owner.id if owner is not None else None,
        kind=kind,
        headers=headers,
        known=KNOWN[kind],
    )
    used = mapping.combine(kind, headers, KNOWN[kind], chosen, base)
    table.rename([used[h] or f"\x00{n}" for n, h in enumerate(headers)])
    summary.mapping = used
    summary.ignored = [h for h in headers if h and not used[h]]


def _check_header(
    table: FileTable, kind: str, summary: Summary, default_business: str | None
) -> None:
    required = [c for c in REQUIRED[kind] if not (c == "business" and default_business)]
    missing = [c for c in required if c not in table.columns]
    for column in missing:
        summary.error(1, column, "required column is missing")
    if summary.ignored:
        summary.warnings.append("ignored columns: " + ", ".join(summary.ignored))
    if kind == "customers" and not {"email", "phone"} & set(table.columns):
        summary.error(1, "email", "the file needs an email or a phone column")


def _rows(table: FileTable, summary: Summary, progress: Progress | None) -> Iterator[Row]:
    for n, row in enumerate(table.rows, start=1):
        summary.rows = n
        if progress is not None and n % 10_000 == 0:
            progress(n, table.bytes_read(), table.size_bytes)
        if "__extra__" in row.values:
            width = len(table.columns)
            found = width + int(row.values["__extra__"])
            summary.error(row.line, "*", f"{found} values but the header has {width} columns")
            continue
        yield row
    if progress is not None:
        progress(summary.rows, table.size_bytes, table.size_bytes)


def _business_of(row: Row, targets: dict[str, Target], default: str | None) -> Target:
    slug = row.values.get("business", "").strip().lower() or (default or "")
    if not slug:
        raise CellError("is empty")
    if default and slug != default:
        raise CellError(f"{slug!r} is not the business being imported ({default})")
    target = targets.get(slug)
    if target is None:
        raise CellError(f"unknown business {slug!r}")
    return target


def _owner_and_id(
    row: Row,
    targets: dict[str, Target],
    default: str | None,
    column: str,
    problems: list[tuple[str, str]],
) -> tuple[Target | None, str]:
    """The row's business and its own id for the row (customer or receipt), noting problems."""
    biz: Target | None = None
    try:
        biz = _business_of(row, targets, default)
    except CellError as exc:
        problems.append(("business", str(exc)))
    external = row.values.get(column, "")
    if not external:
        problems.append((column, "is empty"))
    elif len(external) > 100:
        problems.append((column, "longer than 100 characters"))
    return biz, external


def run(
    session: Session,
    *,
    kind: str,
    path: Path,
    secret_key: str,
    actor: Actor | None = None,
    business: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    filename: str | None = None,
    max_line_bytes: int = 1_000_000,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    date_format: str | None = None,
    columns: Mapping[str, str] | None = None,
    remember: bool = True,
) -> Summary:
    """Validate and apply one file; raises ImportRejected (nothing applied) on any bad line.

    `columns` maps the file's headers to our fields ({"Дата": "at"}); headers it leaves out
    take the mapping remembered for the business and file shape, else the suggested one. A
    chosen mapping is remembered when the file is applied (or passes a check-only run).
    """
    if kind not in KINDS:
        raise Invalid(f"Unknown import kind {kind!r}; use one of {', '.join(KINDS)}.", field="kind")
    try:
        order = locale_input.date_format(date_format)
    except locale_input.InputError as exc:
        raise Invalid(str(exc), field="date_format") from None
    summary = Summary(kind=kind, filename=filename or path.name, dry_run=dry_run)
    try:
        table = open_table(
            path,
            max_line_bytes=max_line_bytes,
            filename=filename,
            max_bytes=max_bytes,
            max_rows=max_rows,
        )
    except FileProblem as exc:
        summary.error(1, "*", str(exc))
        summary.reject()
        raise ImportRejected(summary) from None
    with table:  # the file is closed however the import ends
        summary.encoding, summary.delimiter = table.encoding, table.delimiter
        default = business.strip().lower() if business else None
        _apply_mapping(session, table, kind, summary, columns, default)
        _check_header(table, kind, summary, default)
        if not summary.ok:
            summary.reject()
            raise ImportRejected(summary)
        try:
            if kind == "businesses":
                _import_businesses(session, table, summary, actor, progress)
            else:
                targets = _targets(session, actor, default)
                load = _import_customers if kind == "customers" else _import_transactions
                load(session, table, summary, targets, default, secret_key, progress, order)
        except FileProblem as exc:
            summary.error(summary.rows + 1, "*", str(exc))
    if not summary.ok:
        session.rollback()
        summary.reject()
        raise ImportRejected(summary)
    if dry_run:
        session.rollback()
    if columns and remember and default:
        # Written last: an import's session writes nothing to shared tables before its merge.
        owner = businesses.get_by_slug(session, default)
        if owner is not None:  # a mapping that passed is worth offering next time
            mapping.remember(session, business_id=owner.id, kind=kind, mapping=summary.mapping)
    return summary


# --- businesses: few rows, so the profile rules of the businesses service apply row by row


def _import_businesses(
    session: Session,
    table: FileTable,
    summary: Summary,
    actor: Actor | None,
    progress: Progress | None,
) -> None:
    seen: dict[str, int] = {}
    workspace_id: uuid.UUID | None = None
    if actor is not None:
        owned = [ws for ws, role in actor.roles.items() if role is Role.owner]
        if not owned:
            raise Invalid("Only a workspace owner imports businesses.", field="kind")
        workspace_id = owned[0]
    for row in _rows(table, summary, progress):
        v = row.values
        slug = v.get("id", "").strip().lower()
        if slug in seen:
            summary.error(row.line, "id", f"duplicate of line {seen[slug]}")
            continue
        seen[slug] = row.line
        try:
            data = _business_fields(v)
        except _RowErrors as exc:
            for column, reason in exc.errors:
                summary.error(row.line, column, reason)
            continue
        existing = businesses.get_by_slug(session, data.slug or "")
        try:
            if existing is None:
                ws = workspace_id
                if ws is None:
                    ws = accounts.new_workspace(session, name=data.name).id
                businesses.create(session, workspace_id=ws, data=data)
                summary.inserted += 1
                continue
            if actor is not None:
                role = businesses.role_in(actor, existing)
                if role is None:
                    summary.error(row.line, "id", f"{slug!r} is taken by another business")
                    continue
            before = _profile_snapshot(existing)
            update_data = data.model_dump(exclude_unset=True, exclude={"slug"})
            zone = update_data.get("timezone")
            if zone and zone != existing.timezone:
                dated = sales.date_only_receipts(
                    session, business_id=existing.id, timezone=existing.timezone
                )
                if dated:
                    summary.error(
                        row.line,
                        "timezone",
                        f"{slug!r} has {dated} receipts imported with dates only; change its "
                        "zone on the profile page or through the API, which ask what to do "
                        "with them",
                    )
                    continue
            businesses.apply_profile(existing, BusinessUpdate.model_validate(update_data))
            if _profile_snapshot(existing) == before:
                summary.unchanged += 1
            else:
                summary.updated += 1
        except DomainError as exc:
            summary.error(row.line, exc.field or "*", exc.detail)
    session.flush()
    if summary.updated:  # new businesses have told it already (businesses.create)
        events.emit(session, events.BUSINESSES_CHANGED, None)


class _RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors


BUSINESS_COLUMNS = {"id": "slug", "avg_check": "avg_check_minor"}


def _business_fields(v: dict[str, str]) -> BusinessCreate:
    errors: list[tuple[str, str]] = []
    data: dict[str, Any] = {
        "slug": v.get("id", ""),
        "name": v.get("name", ""),
        "category": v.get("category", ""),
    }
    currency = (v.get("currency") or "").strip().upper() or None
    for column in ("city", "address", "email", "website", "description", "phone"):
        if v.get(column):
            data[column] = v[column]
    if v.get("country"):
        data["country"] = v["country"].strip().upper()
    if v.get("timezone"):
        data["timezone"] = v["timezone"].strip()
    if currency:
        data["currency"] = currency
    try:
        for column in (
            "price_tier",
            "customers_per_month",
            "newsletter_subscribers",
            "social_followers",
            "site_visitors_per_month",
        ):
            if v.get(column):
                data[column] = fields.integer(v[column], 0, 10**9)
    except CellError as exc:
        errors.append((column, str(exc)))
    for column in ("lat", "lon"):
        try:
            if v.get(column):
                data[column] = fields.decimal_number(v[column], -180, 180)
        except CellError as exc:
            errors.append((column, str(exc)))
    if v.get("avg_check"):
        try:
            data["avg_check_minor"] = fields.money(v["avg_check"], currency or "RUB")
        except (CellError, ValueError) as exc:
            errors.append(("avg_check", str(exc)))
    if errors:
        raise _RowErrors(errors)
    try:
        return BusinessCreate.model_validate(data)
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "*"
            name = {v2: k for k, v2 in BUSINESS_COLUMNS.items()}.get(name, name)
            found.append((name, err["msg"].removeprefix("Value error, ")))
        raise _RowErrors(found) from None


def _profile_snapshot(b: Business) -> tuple[Any, ...]:
    return tuple(
        getattr(b, c.key)
        for c in Business.__table__.columns
        if c.key not in ("updated_at", "created_at")
    )


# --- customers


def _import_customers(
    session: Session,
    table: FileTable,
    summary: Summary,
    targets: dict[str, Target],
    default: str | None,
    secret_key: str,
    progress: Progress | None,
    order: str | None = None,
) -> None:
    columns = [
        "business_id",
        "external_id",
        "name",
        "email",
        "phone",
        "email_hash",
        "phone_hash",
        "marketing_consent",
        "consent_at",
        "consent_source",
        "first_seen",
        "row_hash",
    ]
    target = cast(Table, Customer.__table__)
    stage_def = stage_table("stage_customers", target, columns, [Column("new_id", Uuid)])
    conn = session.connection()
    stage = Stage(conn, stage_def)
    today = datetime.now(UTC).date()
    source = f"import:{summary.filename}"[:100]
    for row in _rows(table, summary, progress):
        v = row.values
        problems: list[tuple[str, str]] = []
        biz, external = _owner_and_id(row, targets, default, "customer", problems)
        email = phone = ""
        if v.get("email"):
            try:
                email = normalize_email(v["email"])
            except IdentifierError as exc:
                problems.append(("email", str(exc)))
        if v.get("phone") and biz is not None:
            try:
                phone = normalize_phone(v["phone"], biz.country)
            except IdentifierError as exc:
                problems.append(("phone", str(exc)))
        if not v.get("email") and not v.get("phone"):
            problems.append(("email", "give an email or a phone"))
        consent, consent_at = False, None
        try:
            consent, consent_at = fields.consent(v.get("marketing_consent", ""))
        except CellError as exc:
            problems.append(("marketing_consent", str(exc)))
        first_seen: date | None = None
        if v.get("first_seen"):
            try:
                first_seen = locale_input.parse_date(v["first_seen"], order=order)
            except locale_input.InputError as exc:
                problems.append(("first_seen", str(exc)))
        name = v.get("name", "")
        if len(name) > 200:
            problems.append(("name", "longer than 200 characters"))
        for column, reason in problems:
            summary.error(row.line, column, reason)
        if biz is None or not external or len(external) > 100:
            continue
        if problems:  # still staged, so a repeated id on this line is reported in this pass
            stage.add({"line": row.line, "business_id": biz.id, "external_id": external})
            continue
        if consent and consent_at is None:
            consent_at = today
        values = (email, phone, name, consent, consent_at, first_seen)
        stage.add(
            {
                "line": row.line,
                "business_id": biz.id,
                "external_id": external,
                "name": name,
                "email": email,
                "phone": phone,
                "email_hash": identifier_hash("email", email, secret_key) if email else None,
                "phone_hash": identifier_hash("phone", phone, secret_key) if phone else None,
                "marketing_consent": consent,
                "consent_at": consent_at,
                "consent_source": source if consent else "",
                "first_seen": first_seen,
                "row_hash": row_hash(*values),
                "new_id": uuid.uuid4(),
            }
        )
    stage.flush()
    _report_duplicates(conn, stage_def, summary, "customer")
    if summary.ok:
        now = datetime.now(UTC)
        counts = merge(
            conn,
            target=target,
            stage=stage_def,
            key=["business_id", "external_id"],
            columns=columns,
            insert_only={"id": stage_def.c.new_id, "created_at": now, "updated_at": now},
            update_only={"updated_at": now},
            dry_run=summary.dry_run,
        )
        summary.inserted, summary.updated, summary.unchanged = (
            counts.inserted,
            counts.updated,
            counts.unchanged,
        )
        if counts.inserted and not summary.dry_run:  # partner suggestions count customers
            events.emit(session, events.BUSINESSES_CHANGED, None)
    stage.drop()


def _report_duplicates(conn: Any, stage_def: Any, summary: Summary, column: str) -> None:
    for line, first, key in duplicates(conn, stage_def, ["business_id", "external_id"]):
        summary.error(line, column, f"{key!r} repeats line {first}")


# --- transactions


def _amount(value: str, currency: str) -> int:
    """'1350.50' on the fast path; '1 234,50 руб.', '₽ 99', '12 RUB' through locale_input."""
    try:
        return fields.money(value, currency, allow_negative=True)
    except CellError as plain:
        if not value.strip():
            raise CellError("is empty") from None
        try:
            minor = locale_input.parse_money(value, currency, allow_negative=True)
        except locale_input.InputError as exc:
            if "is in" in str(exc):  # another currency's mark: say that, not "not an amount"
                raise CellError(str(exc)) from None
            raise plain from None
        if abs(minor) > fields.MAX_MINOR:
            raise CellError(f"{value} is implausibly large") from None
        return minor


def _import_transactions(
    session: Session,
    table: FileTable,
    summary: Summary,
    targets: dict[str, Target],
    default: str | None,
    secret_key: str,
    progress: Progress | None,
    order: str | None = None,
) -> None:
    columns = [
        "business_id",
        "external_id",
        "customer_id",
        "at",
        "amount_minor",
        "currency",
        "items",
        "row_hash",
    ]
    target = cast(Table, Transaction.__table__)
    stage_def = stage_table(
        "stage_transactions", target, columns, [Column("customer_ext", String(100))]
    )
    conn = session.connection()
    stage = Stage(conn, stage_def)
    dates = locale_input.DateOrder(told=order)
    for row in _rows(table, summary, progress):
        v = row.values
        problems: list[tuple[str, str]] = []
        biz, external = _owner_and_id(row, targets, default, "id", problems)
        currency = (v.get("currency") or "").strip().upper() or (biz.currency if biz else "")
        if biz is not None and currency != biz.currency:
            problems.append(
                ("currency", f"{currency!r} differs from the business's currency {biz.currency}")
            )
        at = None
        amount = 0
        if biz is not None:
            try:
                # A date without a time is local midnight in the business's zone.
                moment = locale_input.parse_moment(v.get("at", ""), order=order)
                dates.see(row.line, v.get("at", ""), moment)
                at = moment.instant(biz.timezone)
                if not 1990 <= at.year <= 2100:
                    raise locale_input.InputError(f"{v['at']!r} is outside 1990..2100")
            except locale_input.InputError as exc:
                problems.append(("at", str(exc)))
            try:
                amount = _amount(v.get("amount", ""), biz.currency)
            except CellError as exc:
                problems.append(("amount", str(exc)))
        customer = v.get("customer", "")
        if len(customer) > 100:
            problems.append(("customer", "longer than 100 characters"))
        items = ";".join(i.strip() for i in v.get("items", "").split(";") if i.strip())
        if len(items) > 2000:
            problems.append(("items", "longer than 2000 characters"))
        for column, reason in problems:
            summary.error(row.line, column, reason)
        if biz is None or not external or len(external) > 100:
            continue
        if problems or at is None:
            # Staged without its values: a repeated receipt or an unknown customer on this
            # line is still reported in this pass, with the line's other errors.
            stage.add(
                {
                    "line": row.line,
                    "business_id": biz.id,
                    "external_id": external,
                    "customer_ext": customer[:100],
                }
            )
            continue
        at_utc = at.astimezone(UTC)
        stage.add(
            {
                "line": row.line,
                "business_id": biz.id,
                "external_id": external,
                "customer_id": None,
                "customer_ext": customer,
                "at": at_utc,
                "amount_minor": amount,
                "currency": currency,
                "items": items,
                "row_hash": row_hash(customer, at_utc.isoformat(), amount, currency, items),
            }
        )
    stage.flush()
    ambiguous = dates.problem()
    if ambiguous is not None:
        summary.error(ambiguous[0], "at", ambiguous[1])
    _report_duplicates(conn, stage_def, summary, "id")
    _report_unknown_customers(conn, stage_def, summary)
    if summary.ok:
        counts = merge(
            conn,
            target=target,
            stage=stage_def,
            key=["business_id", "external_id"],
            columns=columns,
            dry_run=summary.dry_run,
        )
        summary.inserted, summary.updated, summary.unchanged = (
            counts.inserted,
            counts.updated,
            counts.unchanged,
        )
    stage.drop()


def _report_unknown_customers(conn: Any, stage_def: Any, summary: Summary) -> None:
    """Resolve each line's customer; checked even when other lines are wrong (one pass)."""
    customers = Customer.__table__
    conn.execute(
        update(stage_def)
        .values(
            customer_id=select(customers.c.id)
            .where(
                customers.c.business_id == stage_def.c.business_id,
                customers.c.external_id == stage_def.c.customer_ext,
            )
            .scalar_subquery()
        )
        .where(stage_def.c.customer_ext != "")
    )
    unknown = (
        select(stage_def.c.line, stage_def.c.customer_ext)
        .where(stage_def.c.customer_ext != "", stage_def.c.customer_id.is_(None))
        .order_by(stage_def.c.line)
    )
    for line, ext in conn.execute(unknown):
        summary.error(int(line), "customer", f"unknown customer {ext!r}; import customers first")
