"""The access policy printed over the whole schema: a change of access shows up in review."""

from __future__ import annotations

from pathlib import Path

from api.graphql.access_matrix import matrix, rows
from api.graphql.errors import ForbiddenError
from domain.access import POLICY, Action, requirement

GOLDEN = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"


def test_the_committed_access_matrix_is_what_the_policy_says() -> None:
    assert GOLDEN.read_text(encoding="utf-8") == matrix(), (
        "access changed: review it, then run `python -m api.graphql.access_matrix > docs/access-matrix.md`"
    )


def test_every_field_and_mutation_says_who_may_use_it_and_every_action_is_used() -> None:
    used = {action for _, action in rows()}

    assert set(POLICY) == set(Action)
    assert set(Action) - used == set(), "an action nobody's field or mutation names"


def test_a_refusal_names_exactly_the_roles_the_policy_allows() -> None:
    assert ForbiddenError(Action.MANAGE_ROLES).message == (
        "Forbidden. Requires one of: GLOBAL_ADMIN, ACCOUNT_ADMIN."
    )
    assert (
        requirement(Action.READ_TAX_PROFILE) == "Requires one of: GLOBAL_ADMIN, INCENTIVES_ADMIN covering it."
    )
    assert requirement(None) == "Requires: any signed-in caller."
