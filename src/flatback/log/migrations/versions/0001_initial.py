"""The first training-log schema: sessions, sets, reps.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("pain", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("pop", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("exercise", sa.String(40), nullable=False),
        sa.Column("rep_count", sa.Integer, nullable=False),
        sa.Column("quality_rep_count", sa.Integer, nullable=False),
        sa.Column("end_range_deg", sa.Float, nullable=True),
        sa.Column("end_range_method", sa.Text, nullable=False, server_default=""),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_table(
        "reps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("set_id", sa.Integer, sa.ForeignKey("sets.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("index", sa.Integer, nullable=False),
        sa.Column("descent_s", sa.Float, nullable=False),
        sa.Column("ascent_s", sa.Float, nullable=False),
        sa.Column("pause_bottom_s", sa.Float, nullable=False),
        sa.Column("min_leg_angle_deg", sa.Float, nullable=False),
        sa.Column("max_leg_angle_deg", sa.Float, nullable=False),
        sa.Column("back_state", sa.String(12), nullable=False),
        sa.Column("onset_leg_angle_deg", sa.Float, nullable=True),
        sa.Column("end_range_deg", sa.Float, nullable=True),
        sa.Column("momentum", sa.Boolean, nullable=False),
        sa.Column("quality_rep", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reps")
    op.drop_table("sets")
    op.drop_table("sessions")
