"""Random worlds for the differential tests: a drawn plan (`tests.api.world_plans`) built.

    plan = draw(worlds())                                   # tests/api/world_plans.py
    edge = await build(plan, World(sessions, operator=operator()))
    compared = await compare(edge, documents)               # tests/api/differential.py

`build` writes the plan through the world builder: the services wherever they can reach the
state, `World.raw()` where they cannot (enrollments of any stored status and fiscal year, lapsed
tax profiles, invitations of any year). Tenants and people get GUIDs derived from their names, so
one plan builds the same world on every run.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from api.graphql.ids import to_global_id
from api.graphql.pagination import encode_cursor
from auth.principal import OPERATOR_APP_ROLE, Identity, Principal
from domain.errors import UserInputError
from domain.model import (
    Enrollment,
    Invitation,
    Location,
    Organization,
    PaymentProfile,
    Program,
    RoleAssignment,
    TaxProfile,
    User,
)
from tests.api.differential import GLOBAL_ADMIN_WIDS, EdgeWorld, caller
from tests.api.world_plans import At, OrganizationPlan, S, SubmissionPlan, WorldPlan
from tests.support import actors
from tests.support.world import Org, World

REJECTED = "Bank details unreadable"  # the reason an ACTION_REQUIRED one written as it is gives
NAMESPACE = uuid.UUID("5d0f8a59-7d4f-4b53-9a55-3c8e1d0b6f21")


def guid(name: str) -> str:
    """A GUID of its own for each name: the same world gets the same tenants and people every run."""
    return str(uuid.uuid5(NAMESPACE, name))


def operator() -> Principal:
    identity = Identity(
        tenant_id=actors.OPERATOR_TENANT,
        object_id=guid("operator"),
        display_name="Operator",
        app_roles=frozenset({OPERATOR_APP_ROLE}),
    )
    return Principal(identity=identity, is_operator=True)


@dataclass
class _Built:
    programs: list[int] = field(default_factory=list)
    organizations: list[Org] = field(default_factory=list)
    payment_profiles: list[list[int]] = field(default_factory=list)

    def location(self, at: At) -> int:
        return self.organizations[at[0] - 1].location_ids[at[1] - 1]

    def admin(self, organization: int) -> Principal:
        """An Incentives admin of the whole organization, who keeps its profiles and enrolls."""
        org = self.organizations[organization - 1]
        return actors.incentives_admin(org.tenant_id, org.id, object_id=guid(f"payout {organization}"))

    def payment_profile(self, organization: int, wanted: bool) -> int | None:
        profiles = self.payment_profiles[organization - 1]
        return profiles[0] if wanted and profiles else None


async def build(plan: WorldPlan, world: World) -> EdgeWorld:
    """The plan's world (agreements before programs, so that recording them invites nobody),
    with the ids of everything in it, cursors, and a caller of every kind it has."""
    built = _Built()
    for number, organization in enumerate(plan.organizations, 1):
        built.organizations.append(await _organization(world, number, organization))
    for number, program in enumerate(plan.programs, 1):
        built.programs.append(await world.program(f"P{number}", program.criteria))
    for number, organization in enumerate(plan.organizations, 1):
        built.payment_profiles.append(await _profiles(world, built, number, organization))
    await _rows(world, built, plan)
    for program_id, program in zip(built.programs, plan.programs, strict=True):
        if program.invited:
            await world.invite(program_id)
    for submission in plan.submissions:
        await _submit(world, built, submission)
    for program_id, program in zip(built.programs, plan.programs, strict=True):
        if program.discontinued:
            await world.discontinue(program_id)
    for number, organization in enumerate(plan.organizations, 1):
        await _assign(world, built, number, organization)
    edge = EdgeWorld(world, cursors=_cursors(built))
    await _ids(world, edge)
    for name, identity in _identities(plan, built).items():
        edge.callers[name] = await world.signed_in(identity)
    return edge


async def _organization(world: World, number: int, plan: OrganizationPlan) -> Org:
    org = await world.organization(
        name=f"Organization {number}",
        country="SE",
        migration_completed=plan.migrated,
        tenant_id=guid(f"tenant {number}"),
        global_admin_id=guid(f"global admin {number}"),
    )
    for index, location in enumerate(plan.locations, 1):
        await world.location(org, f"Location {number}.{index}", location.partner_type, country="SE")
    for kind, active in plan.agreements:
        await world.agree(org, kind, active=active)
    if plan.designated:
        await world.agree(org, designated=True)
    return org


async def _profiles(world: World, built: _Built, number: int, plan: OrganizationPlan) -> list[int]:
    """The organization's payment profiles, and each location's tax profiles in order (the valid
    ones through the service, the lapsed ones written as they are: the service refuses them)."""
    admin = built.admin(number)
    payment = [
        await world.payment_profile(admin, f"Account {index}", account=f"SE45500000000583982574{index:02}")
        for index in range(1, plan.payment_profiles + 1)
    ]
    for location_id, location in zip(
        built.organizations[number - 1].location_ids, plan.locations, strict=True
    ):
        for tax in location.tax_profiles:
            if tax.valid:
                await world.tax_profile(
                    admin, location_id, tax.expires_on, tax_id=f"SE-{tax.name}", country="SE"
                )
                continue
            async with world.raw() as raw:
                await raw.add(
                    TaxProfile(
                        location_id=location_id,
                        tax_id=f"SE-{tax.name}",
                        country="SE",
                        expires_on=tax.expires_on,
                    )
                )
    return payment


async def _rows(world: World, built: _Built, plan: WorldPlan) -> None:
    """The enrollments and invitations as drawn, before any invitation is issued (which skips
    the locations that have either)."""
    async with world.raw() as raw:
        for number, organization in enumerate(plan.organizations, 1):
            for index, location in enumerate(organization.locations, 1):
                for row in location.enrollments:
                    await raw.enrollment(
                        built.location((number, index)),
                        built.programs[row.program - 1],
                        status=row.status,
                        fiscal_year=row.fiscal_year,
                        payment_profile_id=built.payment_profile(number, row.payment_profile),
                        earnings_start_date=date(row.fiscal_year - 1, 8, 1)
                        if row.status is S.ENROLLED
                        else None,
                        action_required_reason=REJECTED if row.status is S.ACTION_REQUIRED else None,
                    )
        for invitation in plan.invitations:
            await raw.invitation(
                built.location(invitation.at),
                built.programs[invitation.program - 1],
                fiscal_year=invitation.fiscal_year,
                channel=invitation.channel,
            )


async def _submit(world: World, built: _Built, submission: SubmissionPlan) -> None:
    organization = submission.at[0]
    try:
        enrollment_id = await world.enroll(
            built.admin(organization),
            built.location(submission.at),
            built.programs[submission.program - 1],
            built.payment_profile(organization, submission.payment_profile),
        )
        if submission.review is not None:
            await world.review(enrollment_id, approved=submission.review)
    except UserInputError:
        return  # refused, as the plan's submissions may be


async def _assign(world: World, built: _Built, number: int, plan: OrganizationPlan) -> None:
    org = built.organizations[number - 1]
    for index, person in enumerate(plan.people, 1):
        for assignment in person.assignments:
            await world.assign(
                org,
                guid(f"person {number}.{index}"),
                assignment.role,
                locations=_pick(org.location_ids, assignment.locations),
                programs=_pick(built.programs, assignment.programs),
                name=f"Person {number}.{index}",
            )


def _pick(ids: Sequence[int], numbers: tuple[int, ...] | None) -> list[int] | None:
    return None if numbers is None else [ids[number - 1] for number in numbers]


# Every kind of object, in two groups that `nodes` is asked for apart: the partner's business, and
# the people and notices (which the planned read leaves to graphql-core, for now: asked together,
# they would take the business objects' requests with them).
BUSINESS = (
    ("Organization", Organization),
    ("Location", Location),
    ("IncentiveProgram", Program),
    ("Enrollment", Enrollment),
    ("PaymentProfile", PaymentProfile),
    ("TaxProfile", TaxProfile),
)
PEOPLE_AND_NOTICES = (("Invitation", Invitation), ("RoleAssignment", RoleAssignment), ("User", User))


async def _ids(world: World, edge: EdgeWorld) -> None:
    """The global id of every object in the world, and two that name nothing (in each group)."""
    nothing = {"missing": to_global_id("Location", 987654), "malformed": "not-an-id"}
    async with world.sessions() as session:
        for kinds in (BUSINESS, PEOPLE_AND_NOTICES):
            group: dict[str, str] = {}
            for kind, model in kinds:
                keys = (await session.execute(select(model.id).order_by(model.id))).scalars()
                group.update({f"{kind} {key}": to_global_id(kind, key) for key in keys})
            edge.ids.update(group)
            edge.id_groups.append([*group.values(), *nothing.values()])
    edge.ids.update(nothing)


def _cursors(built: _Built) -> list[str]:
    """A location's, a program's (each from the middle of its list) and one of no list of ours."""
    locations = [location for org in built.organizations for location in org.location_ids]
    keys = [keys[len(keys) // 2] for keys in (locations, built.programs) if keys]
    return [*(encode_cursor(key) for key in keys), "bm9wZQ"]


def _identities(plan: WorldPlan, built: _Built) -> dict[str, Identity]:
    """Each organization's Global admin and people, a member of the first without roles, a stranger
    (a Global admin of a tenant with no organization) and an operator."""
    identities: dict[str, Identity] = {}
    for number, (org, organization) in enumerate(
        zip(built.organizations, plan.organizations, strict=True), 1
    ):
        identities[f"global admin {number}"] = caller(
            org.tenant_id, org.global_admin.object_id, wids=GLOBAL_ADMIN_WIDS
        )
        for index, person in enumerate(organization.people, 1):
            wids = GLOBAL_ADMIN_WIDS if person.global_admin else frozenset()
            identities[f"person {number}.{index}"] = caller(
                org.tenant_id, guid(f"person {number}.{index}"), wids=wids
            )
    first = built.organizations[0]
    identities["member 1"] = caller(first.tenant_id, guid("member 1"))
    identities["stranger"] = caller(guid("stranger tenant"), guid("stranger"), wids=GLOBAL_ADMIN_WIDS)
    identities["operator"] = caller(
        actors.OPERATOR_TENANT, guid("operator caller"), roles=frozenset({OPERATOR_APP_ROLE})
    )
    return identities
