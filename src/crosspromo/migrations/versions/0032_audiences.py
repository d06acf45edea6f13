"""saved audiences (segments), a message's audience, contacts' own zones, quiet hours per
business, reminders before a code or points expire (a delivery per contact and occasion)

Revision ID: 0032
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_audiences",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_message_audiences_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_audiences")),
        sa.UniqueConstraint(
            "business_id", "name", name=op.f("uq_message_audiences_business_id_name")
        ),
    )
    op.create_index(op.f("ix_message_audiences_business_id"), "message_audiences", ["business_id"])
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("audience_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_broadcasts_audience_id_message_audiences"),
            "message_audiences",
            ["audience_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("messaging_preferences") as batch:
        batch.add_column(sa.Column("quiet_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quiet_until", sa.Integer(), nullable=True))
    # Quiet hours are the business's (and kept in each recipient's zone), not each trigger's.
    with op.batch_alter_table("message_triggers") as batch:
        batch.drop_column("quiet_from")
        batch.drop_column("quiet_until")
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("occasion", sa.String(length=80), nullable=False, server_default="")
        )
        batch.drop_constraint("uq_deliveries_broadcast_id_contact_id", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_broadcast_id_contact_id_occasion",
            ["broadcast_id", "contact_id", "occasion"],
        )
    op.create_table(
        "message_reminders",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("code", "points", name="reminderkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("broadcast_id", sa.Uuid(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("holdout_bp", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_message_reminders_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_message_reminders_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reminders")),
    )
    op.create_index(
        op.f("ix_message_reminders_business_id"), "message_reminders", ["business_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_message_reminders_business_id"), table_name="message_reminders")
    op.drop_table("message_reminders")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_broadcast_id_contact_id_occasion", type_="unique")
        batch.create_unique_constraint(
            "uq_deliveries_broadcast_id_contact_id", ["broadcast_id", "contact_id"]
        )
        batch.drop_column("occasion")
    with op.batch_alter_table("message_triggers") as batch:
        batch.add_column(sa.Column("quiet_until", sa.Integer(), nullable=False, server_default="9"))
        batch.add_column(sa.Column("quiet_from", sa.Integer(), nullable=False, server_default="21"))
    with op.batch_alter_table("messaging_preferences") as batch:
        batch.drop_column("quiet_until")
        batch.drop_column("quiet_from")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("timezone")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_constraint(
            op.f("fk_broadcasts_audience_id_message_audiences"), type_="foreignkey"
        )
        batch.drop_column("audience_id")
    op.drop_index(op.f("ix_message_audiences_business_id"), table_name="message_audiences")
    op.drop_table("message_audiences")
