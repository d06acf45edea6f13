"""coupon print jobs run by the worker: progress, then the PDF or an error

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("layout", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("limit_count", sa.Integer(), nullable=True),
        sa.Column("after", sa.String(length=64), nullable=False),
        sa.Column("public_url", sa.String(length=300), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="printstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("next_after", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("pdf_bytes", sa.BigInteger(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", crosspromo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", crosspromo.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers.id"],
            name=op.f("fk_print_jobs_offer_id_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
    )
    with op.batch_alter_table("print_jobs") as batch:
        batch.create_index(batch.f("ix_print_jobs_offer_id"), ["offer_id"], unique=False)
        batch.create_index(batch.f("ix_print_jobs_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_index(batch.f("ix_print_jobs_created_at"))
        batch.drop_index(batch.f("ix_print_jobs_offer_id"))
    op.drop_table("print_jobs")
