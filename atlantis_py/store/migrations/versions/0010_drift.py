"""Drift detection: claimed schedule slots and per-project results.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_slots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("environment", sa.String(255), nullable=False),
        sa.Column("slot", sa.DateTime, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("forge", "repo", "environment", "slot", name="uq_drift_slot"),
    )
    op.create_table(
        "drift_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("dir", sa.String(1024), nullable=False),
        sa.Column("workspace", sa.String(255), nullable=False),
        sa.Column("environment", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("add", sa.Integer, nullable=False),
        sa.Column("change", sa.Integer, nullable=False),
        sa.Column("destroy", sa.Integer, nullable=False),
        sa.Column("resources", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("checked_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_drift_results_project", "drift_results",
                    ["forge", "repo", "project", "id"])


def downgrade() -> None:
    op.drop_index("ix_drift_results_project", "drift_results")
    op.drop_table("drift_results")
    op.drop_table("drift_slots")
