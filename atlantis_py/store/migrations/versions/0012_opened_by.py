"""Who opened an IPR through the API (GitHub and GitLab name the bot as its
author, so the gate needs the person too), and failed console sign-ins shared
by every web process and replica.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pull_requests") as batch:
        batch.add_column(sa.Column("opened_by", sa.String(255), nullable=False,
                                   server_default=""))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_login_failures_client", "login_failures", ["client", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_at", "login_failures")
    op.drop_index("ix_login_failures_client", "login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("pull_requests") as batch:
        batch.drop_column("opened_by")
