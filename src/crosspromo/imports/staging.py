"""Set-based, all-or-nothing loading: rows go to a temporary stage table, then one merge.

The stage is written with COPY on PostgreSQL and executemany on SQLite; the merge is one
UPDATE ... FROM and one INSERT ... SELECT, so a file is applied whole inside one transaction
or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

BATCH = 5_000


def stage_table(
    name: str, target: Table, columns: Sequence[str], extra: Sequence[Column[Any]] = ()
) -> Table:
    """A TEMPORARY table with a line number, copies of `columns` of `target`, and extras."""
    copies = [Column(c, target.c[c].type, nullable=True) for c in columns]
    return Table(
        name,
        MetaData(),
        Column("line", Integer, nullable=False),
        *copies,
        *extra,
        prefixes=["TEMPORARY"],
        # Gone with the import's transaction: behind pgbouncer in transaction mode the server
        # connection serves other clients next, and must carry no table of ours.
        postgresql_on_commit="DROP",
    )


class Stage:
    """Buffers rows and writes them to the stage table in batches."""

    def __init__(self, conn: Connection, table: Table) -> None:
        self.conn = conn
        self.table = table
        self.names = [c.name for c in table.columns]
        self.buffer: list[dict[str, Any]] = []
        self.postgres = conn.dialect.name == "postgresql"
        # SQLite: convert values once with each column's own bind processor and hand plain
        # tuples to the driver's executemany; SQLAlchemy's per-row machinery costs more. The
        # dialect's processor, so timestamps get the one stored format (clock.SQLITE_FORMAT)
        # that ORM queries bind, not sqlite3's default '...+00:00' text.
        self.processors = [
            c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in table.columns
        ]
        marks = ", ".join("?" for _ in self.names)
        self.insert_sql = f'INSERT INTO "{table.name}" ({", ".join(self.names)}) VALUES ({marks})'
        table.drop(conn, checkfirst=True)
        table.create(conn)

    def add(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        if self.postgres:
            raw = self.conn.connection.driver_connection
            cursor = raw.cursor()  # type: ignore[union-attr]
            with cursor.copy(
                f'COPY "{self.table.name}" ({", ".join(self.names)}) FROM STDIN'
            ) as copy:
                for row in self.buffer:
                    copy.write_row([row.get(n) for n in self.names])
        else:
            pairs = list(zip(self.names, self.processors, strict=True))
            rows = [
                tuple(
                    (p(v) if p is not None and v is not None else v)
                    for n, p in pairs
                    for v in (row.get(n),)
                )
                for row in self.buffer
            ]
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(self.insert_sql, rows)
        self.buffer.clear()

    def drop(self) -> None:
        self.table.drop(self.conn, checkfirst=True)


@dataclass
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def duplicates(
    conn: Connection, stage: Table, key: Sequence[str]
) -> Iterator[tuple[int, int, str]]:
    """Rows whose key repeats an earlier row of the same file: (line, first line, key)."""
    cols = [stage.c[k] for k in key]
    grouped = (
        select(*cols, func.min(stage.c.line).label("first"), func.count().label("n"))
        .where(*[c.is_not(None) for c in cols])
        .group_by(*cols)
        .having(func.count() > 1)
        .subquery()
    )
    join_on = and_(*[stage.c[k] == grouped.c[k] for k in key])
    query = (
        select(stage.c.line, grouped.c.first, stage.c[key[-1]])
        .join(grouped, join_on)
        .where(stage.c.line != grouped.c.first)
        .order_by(stage.c.line)
    )
    for a, b, c in conn.execute(query):
        yield int(a), int(b), str(c)


def merge(
    conn: Connection,
    *,
    target: Table,
    stage: Table,
    key: Sequence[str],
    columns: Sequence[str],
    insert_only: dict[str, Any] | None = None,
    update_only: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> MergeCounts:
    """Insert new keys, update changed rows (row_hash differs), count the unchanged."""
    match = and_(*[target.c[k] == stage.c[k] for k in key])
    counts_query = select(
        func.coalesce(func.sum(case((target.c.row_hash.is_(None), 1), else_=0)), 0),
        func.coalesce(func.sum(case((target.c.row_hash == stage.c.row_hash, 1), else_=0)), 0),
        func.coalesce(func.sum(case((target.c.row_hash != stage.c.row_hash, 1), else_=0)), 0),
    ).select_from(stage.outerjoin(target, match))
    inserted, unchanged, updated = conn.execute(counts_query).one()
    counts = MergeCounts(inserted=int(inserted), updated=int(updated), unchanged=int(unchanged))
    if dry_run:
        return counts
    if counts.updated:
        values: dict[str, Any] = {c: stage.c[c] for c in columns if c not in key}
        values.update(update_only or {})
        conn.execute(
            update(target).values(values).where(match, target.c.row_hash != stage.c.row_hash)
        )
    if counts.inserted:
        extra = insert_only or {}
        names = list(columns) + list(extra)
        source = select(
            *[stage.c[c] for c in columns],
            *[
                (v if hasattr(v, "compile") else literal(v, target.c[n].type)).label(n)
                for n, v in extra.items()
            ],
        ).where(~exists().where(match))
        conn.execute(insert(target).from_select(names, source))
    return counts
