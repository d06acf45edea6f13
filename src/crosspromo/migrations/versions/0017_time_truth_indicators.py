"""one stored timestamp format on SQLite; indicators outside sales

Revision ID: 0017
Revises: 0016
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The bulk import wrote '1997-01-01 05:00:00+00:00' through sqlite3's default adapter while
# every ORM query binds '1997-01-01 05:00:00.000000'; text comparison then misplaces rows.
CANONICAL = "%Y-%m-%d %H:%M:%S.%f"


def _rewrite_sqlite(conn: sa.Connection, table: str, column: str) -> None:
    # The two shapes the adapter wrote, fixed in SQL (fast for millions of rows)...
    conn.execute(
        sa.text(
            f"UPDATE {table} SET {column} = substr({column}, 1, 19) || '.000000' "
            f"WHERE length({column}) = 25 AND substr({column}, 20) = '+00:00'"
        )
    )
    conn.execute(
        sa.text(
            f"UPDATE {table} SET {column} = substr({column}, 1, 26) "
            f"WHERE length({column}) = 32 AND substr({column}, 27) = '+00:00'"
        )
    )
    # ...and anything else that is not canonical, through Python's parser.
    odd = conn.execute(
        sa.text(
            f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL AND NOT "
            f"(length({column}) = 26 AND {column} GLOB "
            "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]*')"
        )
    ).all()
    for rowid, value in odd:
        parsed = datetime.fromisoformat(str(value).replace(" ", "T", 1))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        conn.execute(
            sa.text(f"UPDATE {table} SET {column} = :v WHERE rowid = :r"),
            {"v": parsed.astimezone(UTC).strftime(CANONICAL), "r": rowid},
        )


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        _rewrite_sqlite(conn, "transactions", "at")
    op.create_table(
        "indicator_values",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("updated_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_indicator_values_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_values")),
        sa.UniqueConstraint(
            "business_id",
            "indicator",
            "day",
            name=op.f("uq_indicator_values_business_id_indicator_day"),
        ),
    )
    op.create_index(
        op.f("ix_indicator_values_business_id"), "indicator_values", ["business_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_indicator_values_business_id"), table_name="indicator_values")
    op.drop_table("indicator_values")
