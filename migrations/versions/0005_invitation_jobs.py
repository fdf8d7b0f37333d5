"""invitation jobs: createProgram's and the new fiscal year's invitations, issued in the background

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

Rule 24: a row per (program, fiscal year) whose invitations a server's worker still has to issue.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitation_jobs",
        sa.Column("program_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_invitation_jobs_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "fiscal_year", name=op.f("pk_invitation_jobs")),
    )


def downgrade() -> None:
    op.drop_table("invitation_jobs")
