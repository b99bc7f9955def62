"""Jobs' live logs, the projects a job worked on, a plan's resource changes, and
jobs found by pull request (the console's jobs pages).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_logs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
    )
    op.create_index("ix_job_logs_job", "job_logs", ["job_id", "id"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("projects", sa.Text, nullable=False, server_default=""))
    op.create_index("ix_jobs_serial_key", "jobs", ["serial_key", "id"])
    with op.batch_alter_table("project_runs") as batch:
        batch.add_column(sa.Column("changes", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("project_runs") as batch:
        batch.drop_column("changes")
    op.drop_index("ix_jobs_serial_key", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("projects")
    op.drop_index("ix_job_logs_job", "job_logs")
    op.drop_table("job_logs")
