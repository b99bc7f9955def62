"""Policy checks: each plan run's verdict per policy set, and owners' approvals.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("project_runs.id"), nullable=False),
        sa.Column("policy_set", sa.String(255), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("denies", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_policy_results_run", "policy_results", ["run_id"])
    op.create_table(
        "policy_approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pull_id", sa.Integer, sa.ForeignKey("pull_requests.id"), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("project_runs.id"), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("policy_set", sa.String(255), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_policy_approvals_pull", "policy_approvals", ["pull_id", "head_sha"])


def downgrade() -> None:
    op.drop_index("ix_policy_approvals_pull", "policy_approvals")
    op.drop_table("policy_approvals")
    op.drop_index("ix_policy_results_run", "policy_results")
    op.drop_table("policy_results")
