"""Initial schema: deliveries, jobs, pull requests, project runs, locks, audit.

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
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("forge", "delivery_id", name="uq_delivery"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("serial_key", sa.String(512), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("lease_until", sa.DateTime),
    )
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"])
    op.create_table(
        "pull_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("head_ref", sa.String(255), nullable=False),
        sa.Column("base_ref", sa.String(255), nullable=False),
        sa.Column("clone_url", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("forge", "repo", "number", name="uq_pull"),
    )
    op.create_table(
        "project_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pull_id", sa.Integer, sa.ForeignKey("pull_requests.id"), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("dir", sa.String(1024), nullable=False),
        sa.Column("workspace", sa.String(255), nullable=False),
        sa.Column("command", sa.String(16), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("add", sa.Integer),
        sa.Column("change", sa.Integer),
        sa.Column("destroy", sa.Integer),
        sa.Column("replace", sa.Integer),
        sa.Column("plan_path", sa.Text, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_index("ix_runs_pull", "project_runs", ["pull_id", "command"])
    op.create_table(
        "locks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("dir", sa.String(1024), nullable=False),
        sa.Column("workspace", sa.String(255), nullable=False),
        sa.Column("pull_id", sa.Integer, sa.ForeignKey("pull_requests.id"), nullable=False),
        sa.Column("pull_number", sa.Integer, nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("forge", "repo", "dir", "workspace", name="uq_lock"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pull_id", sa.Integer, sa.ForeignKey("pull_requests.id")),
        sa.Column("forge", sa.String(32), nullable=False),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("pull_number", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_pull", "audit_events", ["pull_id", "id"])


def downgrade() -> None:
    for table in ("audit_events", "locks", "project_runs", "pull_requests", "jobs",
                  "deliveries"):
        op.drop_table(table)
