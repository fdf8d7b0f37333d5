"""The authorization policy: `Principal.can` and `Principal.coverage` for every role (CONTRACT 2, 5)."""

from __future__ import annotations

import pytest

from auth.principal import (
    GLOBAL_ADMIN_APP_ROLE,
    GLOBAL_ADMINISTRATOR_WID,
    OPERATOR_APP_ROLE,
    Identity,
    Principal,
    system_principal,
)
from domain.access import Action, Grant, Role, Scope

ORG = 1
OTHER_ORG = 2
LOCATION = 10
OTHER_LOCATION = 11
PROGRAM = 100
OTHER_PROGRAM = 101
TENANT = "11111111-1111-4111-8111-111111111111"
OPERATOR_TENANT = "99999999-9999-4999-8999-999999999999"
HERE = Scope(organization_id=ORG, location_id=LOCATION, program_id=PROGRAM)


def identity(*, wids: frozenset[str] = frozenset(), app_roles: frozenset[str] = frozenset()) -> Identity:
    return Identity(
        tenant_id=TENANT, object_id="22222222-2222-4222-8222-222222222222", wids=wids, app_roles=app_roles
    )


def member(*grants: Grant, org_roles: frozenset[Role] = frozenset(), global_admin: bool = False) -> Principal:
    wids = frozenset({GLOBAL_ADMINISTRATOR_WID}) if global_admin else frozenset()
    return Principal(identity=identity(wids=wids), organization_id=ORG, org_roles=org_roles, grants=grants)


def grant(role: Role, locations: set[int] | None = None, programs: set[int] | None = None) -> Grant:
    return Grant(
        role=role,
        location_ids=None if locations is None else frozenset(locations),
        program_ids=None if programs is None else frozenset(programs),
    )


def operator() -> Principal:
    operator_identity = Identity(
        tenant_id=OPERATOR_TENANT,
        object_id="33333333-3333-4333-8333-333333333333",
        app_roles=frozenset({OPERATOR_APP_ROLE}),
    )
    return Principal(identity=operator_identity, is_operator=True)


A = Action
CALLERS: dict[str, tuple[Principal, frozenset[Action]]] = {
    "member without roles": (member(), frozenset({A.READ_ORGANIZATION})),
    "GLOBAL_ADMIN": (
        member(global_admin=True),
        frozenset(
            {
                A.REGISTER_ORGANIZATION,
                A.READ_ORGANIZATION,
                A.MANAGE_ORGANIZATION,
                A.COMPLETE_MIGRATION,
                A.MANAGE_ROLES,
                A.READ_ROLE_ASSIGNMENTS,
                A.READ_ROLE_ASSIGNMENT,
                A.READ_AUDIT_LOG,
                A.READ_ENROLLMENT,
                A.INVITATION_NOTICES,
                A.READ_BANK_DETAILS,
                A.READ_TAX_PROFILE,
            }
        ),
    ),
    "ACCOUNT_ADMIN": (
        member(org_roles=frozenset({Role.ACCOUNT_ADMIN})),
        frozenset(
            {
                A.READ_ORGANIZATION,
                A.MANAGE_ORGANIZATION,
                A.COMPLETE_MIGRATION,
                A.MANAGE_ROLES,
                A.READ_ROLE_ASSIGNMENTS,
                A.READ_ROLE_ASSIGNMENT,
                A.READ_ENROLLMENT,
                A.INVITATION_NOTICES,
            }
        ),
    ),
    "INCENTIVES_ADMIN": (
        member(grant(Role.INCENTIVES_ADMIN)),
        frozenset(
            {
                A.READ_ORGANIZATION,
                A.COMPLETE_MIGRATION,
                A.READ_ENROLLMENT,
                A.READ_ENROLLMENT_DETAIL,
                A.ENROLL,
                A.INVITATION_NOTICES,
                A.MANAGE_PAYMENT_PROFILES,
                A.READ_BANK_DETAILS,
                A.MANAGE_TAX_PROFILE,
                A.READ_TAX_PROFILE,
            }
        ),
    ),
    "INCENTIVES_USER": (
        member(grant(Role.INCENTIVES_USER)),
        frozenset({A.READ_ORGANIZATION, A.READ_ENROLLMENT}),
    ),
    "operator": (
        operator(),
        frozenset({A.OPERATE, A.READ_ORGANIZATION, A.READ_ENROLLMENT, A.READ_ENROLLMENT_DETAIL}),
    ),
    "stranger without an organization": (
        Principal(identity=identity()),
        frozenset(),
    ),
}


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.name)
@pytest.mark.parametrize("caller", list(CALLERS))
def test_each_caller_may_do_exactly_its_role_s_actions_in_its_own_organization(
    caller: str, action: Action
) -> None:
    principal, allowed = CALLERS[caller]

    assert principal.can(action, HERE) is (action in allowed)


ORGANIZATION_ACTIONS = [action for action in Action if action not in (A.OPERATE, A.REGISTER_ORGANIZATION)]


@pytest.mark.parametrize("action", ORGANIZATION_ACTIONS, ids=lambda action: action.name)
@pytest.mark.parametrize("caller", [name for name in CALLERS if name != "operator"])
def test_nobody_but_an_operator_acts_in_another_organization(caller: str, action: Action) -> None:
    principal, _ = CALLERS[caller]
    elsewhere = Scope(organization_id=OTHER_ORG, location_id=LOCATION, program_id=PROGRAM)

    assert not principal.can(action, elsewhere)
    assert principal.coverage(action, OTHER_ORG).is_empty


def test_an_incentives_admin_enrolls_only_the_locations_and_programs_assigned() -> None:
    admin = member(grant(Role.INCENTIVES_ADMIN, locations={LOCATION}, programs={PROGRAM}))

    assert admin.can(A.ENROLL, HERE)
    assert not admin.can(A.ENROLL, Scope(ORG, OTHER_LOCATION, PROGRAM))
    assert not admin.can(A.ENROLL, Scope(ORG, LOCATION, OTHER_PROGRAM))
    assert admin.can(A.MANAGE_TAX_PROFILE, Scope(ORG, LOCATION))
    assert not admin.can(A.MANAGE_TAX_PROFILE, Scope(ORG, OTHER_LOCATION))


def test_an_incentives_user_sees_only_the_enrollments_assigned() -> None:
    user = member(grant(Role.INCENTIVES_USER, locations={LOCATION}, programs={PROGRAM}))

    assert user.can(A.READ_ENROLLMENT, HERE)
    assert not user.can(A.READ_ENROLLMENT, Scope(ORG, OTHER_LOCATION, PROGRAM))
    assert not user.can(A.READ_ENROLLMENT, Scope(ORG, LOCATION, OTHER_PROGRAM))
    coverage = user.coverage(A.READ_ENROLLMENT, ORG)
    assert coverage.covers(LOCATION, PROGRAM)
    assert not coverage.covers(OTHER_LOCATION, PROGRAM)


def test_an_entire_organization_grant_covers_a_location_added_later() -> None:
    admin = member(grant(Role.INCENTIVES_ADMIN, locations=None, programs={PROGRAM}))
    new_location = 987_654

    assert admin.can(A.ENROLL, Scope(ORG, new_location, PROGRAM))
    assert admin.can(A.READ_TAX_PROFILE, Scope(ORG, new_location))
    assert admin.coverage(A.ENROLL, ORG).covers(new_location, PROGRAM)
    assert not admin.coverage(A.ENROLL, ORG).covers(new_location, OTHER_PROGRAM)


@pytest.mark.parametrize(
    "admin", [member(global_admin=True), member(org_roles=frozenset({Role.ACCOUNT_ADMIN}))], ids=["GA", "AA"]
)
def test_an_organization_admin_without_an_incentives_admin_assignment_cannot_enroll(admin: Principal) -> None:
    assert not admin.can(A.ENROLL, HERE)
    assert admin.coverage(A.ENROLL, ORG).is_empty


def test_a_global_admin_who_also_holds_the_assignment_can_enroll() -> None:
    admin = member(grant(Role.INCENTIVES_ADMIN, locations={LOCATION}), global_admin=True)

    assert admin.can(A.ENROLL, HERE)
    assert not admin.can(A.ENROLL, Scope(ORG, OTHER_LOCATION, PROGRAM))


@pytest.mark.parametrize("action", [A.READ_BANK_DETAILS, A.READ_TAX_PROFILE, A.MANAGE_PAYMENT_PROFILES])
def test_an_incentives_user_cannot_see_or_manage_payout_data(action: Action) -> None:
    user = member(grant(Role.INCENTIVES_USER))

    assert not user.can(action, HERE)


def test_an_incentives_admin_of_one_location_sees_bank_details_but_only_that_location_s_tax_profile() -> None:
    admin = member(grant(Role.INCENTIVES_ADMIN, locations={LOCATION}))

    assert admin.can(A.READ_BANK_DETAILS, Scope(ORG))
    assert admin.can(A.READ_TAX_PROFILE, Scope(ORG, LOCATION))
    assert not admin.can(A.READ_TAX_PROFILE, Scope(ORG, OTHER_LOCATION))


def test_organization_admins_see_every_enrollment_but_not_the_in_progress_detail() -> None:
    admin = member(org_roles=frozenset({Role.ACCOUNT_ADMIN}))

    assert admin.coverage(A.READ_ENROLLMENT, ORG).everything
    assert admin.coverage(A.READ_ENROLLMENT_DETAIL, ORG).is_empty


def test_an_operator_reads_every_organization_s_enrollments_but_manages_none() -> None:
    op = operator()
    elsewhere = Scope(OTHER_ORG, LOCATION, PROGRAM)

    assert op.coverage(A.READ_ENROLLMENT, OTHER_ORG).everything
    assert op.coverage(A.READ_ENROLLMENT_DETAIL, OTHER_ORG).everything
    assert op.can(A.READ_ENROLLMENT, elsewhere)
    for action in (A.ENROLL, A.MANAGE_ROLES, A.READ_BANK_DETAILS, A.READ_TAX_PROFILE, A.READ_AUDIT_LOG):
        assert not op.can(action, elsewhere)


def test_the_operator_app_role_without_the_operator_flag_grants_nothing() -> None:
    # Principal.is_operator is decided by the Authenticator (role AND operator tenant), never by the role.
    claimed = Principal(identity=identity(app_roles=frozenset({OPERATOR_APP_ROLE})))

    assert not claimed.can(A.OPERATE)


def test_the_global_admin_app_role_counts_as_global_admin() -> None:
    admin = Principal(identity=identity(app_roles=frozenset({GLOBAL_ADMIN_APP_ROLE})), organization_id=ORG)

    assert admin.is_global_admin
    assert admin.can(A.READ_AUDIT_LOG, Scope(ORG))


def test_a_caller_s_roles_are_the_union_of_token_and_stored_roles() -> None:
    caller = member(
        grant(Role.INCENTIVES_USER, locations={LOCATION}),
        org_roles=frozenset({Role.ACCOUNT_ADMIN}),
        global_admin=True,
    )

    assert caller.roles() == {Role.GLOBAL_ADMIN, Role.ACCOUNT_ADMIN, Role.INCENTIVES_USER}


def test_a_global_admin_whose_tenant_has_no_organization_holds_no_organization_role() -> None:
    admin = Principal(identity=identity(wids=frozenset({GLOBAL_ADMINISTRATOR_WID})))

    assert admin.roles() == frozenset()
    assert admin.can(A.REGISTER_ORGANIZATION)
    assert not admin.can(A.READ_ORGANIZATION, Scope(ORG))


def test_the_command_line_acts_as_an_operator() -> None:
    assert system_principal(OPERATOR_TENANT).can(A.OPERATE)
