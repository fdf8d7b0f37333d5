"""audit events of issueInvitations name their program by the API's kind (IncentiveProgram)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

They were stored as ("Program", id), so their `targetId` was no ID that `node` answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE audit_events SET target_kind = 'IncentiveProgram' WHERE target_kind = 'Program'")


def downgrade() -> None:
    op.execute("UPDATE audit_events SET target_kind = 'Program' WHERE target_kind = 'IncentiveProgram'")
