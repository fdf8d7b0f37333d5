"""open programs are open: their INELIGIBLE enrollments are INVITED again

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08

Rule 25: a program open to all partners (no criteria) has nothing to be ineligible for; an older
roll-forward carried its ENROLLED enrollments as INELIGIBLE without a PARTNER_PROGRAM agreement,
and `enroll` now accepts only INVITED ones. Those enrollments read INVITED, as the service now
leaves them; nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE enrollments SET status = 'INVITED', action_required_reason = NULL, version = version + 1"
        " WHERE status = 'INELIGIBLE' AND NOT EXISTS"
        " (SELECT 1 FROM program_criteria WHERE program_criteria.program_id = enrollments.program_id)"
    )


def downgrade() -> None:
    pass  # which of them were INELIGIBLE is not kept, and INVITED is what they should have been
