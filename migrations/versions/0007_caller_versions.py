"""the version of each tenant's callers, bumped with every change to what they may do

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12

A process remembers a caller only while the version is the one it read them at (issue 24).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caller_versions",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_caller_versions")),
    )


def downgrade() -> None:
    op.drop_table("caller_versions")
