"""exactly once under concurrency: one role assignment per user, role and scope; enrollment versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

`role_assignments.scope_key` (the digest of the assignment's locations and programs, as
`domain.model.scope_key` computes it) is filled in for the assignments already stored; duplicates a
race stored before this revision are removed (the oldest of each is kept, with its audit events),
then a unique index makes the database refuse another. `enrollments.version` starts at 1.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(locations: list[int] | None, programs: list[int] | None) -> str:
    def listed(ids: list[int] | None) -> str:
        return "*" if ids is None else ",".join(str(i) for i in sorted(set(ids)))

    return hashlib.sha256(f"L:{listed(locations)}|P:{listed(programs)}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("role_assignments") as batch_op:
        batch_op.add_column(sa.Column("scope_key", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    locations: dict[int, list[int]] = defaultdict(list)
    programs: dict[int, list[int]] = defaultdict(list)
    for assignment_id, location_id in connection.execute(
        sa.text("SELECT assignment_id, location_id FROM role_assignment_locations")
    ):
        locations[assignment_id].append(location_id)
    for assignment_id, program_id in connection.execute(
        sa.text("SELECT assignment_id, program_id FROM role_assignment_programs")
    ):
        programs[assignment_id].append(program_id)
    seen: set[tuple[object, ...]] = set()
    rows = connection.execute(
        sa.text(
            "SELECT id, organization_id, user_id, role, all_locations, all_programs "
            "FROM role_assignments ORDER BY id"
        )
    ).all()
    for id_, organization_id, user_id, role, all_locations, all_programs in rows:
        key = _key(
            None if all_locations else locations[id_],
            None if all_programs else programs[id_],
        )
        identity = (organization_id, user_id, role, key)
        if identity in seen:
            for child in ("role_assignment_locations", "role_assignment_programs"):
                connection.execute(sa.text(f"DELETE FROM {child} WHERE assignment_id = :id"), {"id": id_})  # noqa: S608 - fixed names
            connection.execute(sa.text("DELETE FROM role_assignments WHERE id = :id"), {"id": id_})
            continue
        seen.add(identity)
        connection.execute(
            sa.text("UPDATE role_assignments SET scope_key = :key WHERE id = :id"), {"key": key, "id": id_}
        )
    with op.batch_alter_table("role_assignments") as batch_op:
        batch_op.alter_column("scope_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(
            "ux_role_assignments_user_role_scope",
            ["organization_id", "user_id", "role", "scope_key"],
            unique=True,
        )
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("role_assignments") as batch_op:
        batch_op.drop_index("ux_role_assignments_user_role_scope")
        batch_op.drop_column("scope_key")
