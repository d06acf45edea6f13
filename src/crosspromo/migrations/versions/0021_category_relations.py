"""category relations learned from everyone's shared customers; learning state

Revision ID: 0021
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "category_relations",
        sa.Column("category_a", sa.String(length=100), nullable=False),
        sa.Column("category_b", sa.String(length=100), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("candidate_pairs", sa.Integer(), nullable=False),
        sa.Column("business_pairs", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Double(), nullable=False),
        sa.Column("a_first", sa.Integer(), nullable=False),
        sa.Column("switched", sa.Integer(), nullable=False),
        sa.Column("close", sa.Integer(), nullable=False),
        sa.Column("computed_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_relations")),
        sa.UniqueConstraint(
            "category_a",
            "category_b",
            "city",
            name=op.f("uq_category_relations_category_a_category_b_city"),
        ),
    )
    op.create_table(
        "learning_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learned_at", crosspromo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("full_at", crosspromo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_transaction", sa.BigInteger(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_state")),
    )
    # The one row exists from the start: workers lock it, never race to create it.
    op.execute(
        "INSERT INTO learning_state (id, last_transaction, people, pairs) VALUES (1, 0, 0, 0)"
    )


def downgrade() -> None:
    op.drop_table("learning_state")
    op.drop_table("category_relations")
