"""The builder (`tests.support.world.World`) as the API tests use it: synchronous, by global id.

    partner = world.partner()                        # registered by its tenant's Global admin
    location = world.location(partner)
    invited = world.invited()                        # a location invited to a program, and its admin
    enrollment_id = world.validating(invited, "2099-12-31")
    client.ok(client.operator(), "reviewEnrollment", ...)  # what a test is about goes through the API

Everything here is built through the domain services, on the API's database, never through the
API under test. What it built is named by global id, and each person it made comes as a `Caller`
with a real token from the loopback Entra.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from api.graphql.ids import key_of, to_global_id
from auth.principal import Identity, Principal
from domain.access import Role
from domain.clock import FixedClock
from domain.database import session_factory
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType
from tests.api.client import Caller, Client, Json
from tests.support import actors
from tests.support.entra import OPERATOR_TENANT_ID
from tests.support.loop_thread import LoopThread, loop_thread
from tests.support.pgbouncer import engine_for
from tests.support.server import TODAY
from tests.support.world import Org, RawRows, World

T = TypeVar("T")
OPEN_TO_ALL: Sequence[str] = ()


@dataclass
class Partner:
    """One organization, and its tenant's Global admin (who registered it)."""

    org: Org
    admin: Caller
    locations: list[str] = field(default_factory=list)

    @property
    def organization_id(self) -> str:
        return to_global_id("Organization", self.org.id)

    @property
    def tenant_id(self) -> str:
        return self.org.tenant_id


@dataclass(frozen=True)
class Invited:
    """A location invited to a program, and an Incentives admin covering exactly that pair."""

    partner: Partner
    location: str
    program: str
    admin: Caller


def key(global_id: str, kind: str) -> int:
    found = key_of(global_id, kind)
    assert found is not None, f"{global_id!r} is no {kind} id"
    return found


class ApiWorld:
    """`World` on the API's database, driven from sync tests through a loop thread of its own."""

    def __init__(self, world: World, loop: LoopThread, client: Client) -> None:
        self.builder = world
        self.client = client
        self._loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of the builder, e.g. `world.run(world.builder.discontinue(program_id))`."""
        return self._loop.run(coroutine)

    def raw(self, write: Callable[[RawRows], Coroutine[Any, Any, T]]) -> T:
        """`write(rows)` with `World.raw()`'s rows, for states the services cannot reach."""

        async def writing() -> T:
            async with self.builder.raw() as rows:
                return await write(rows)

        return self.run(writing())

    # --- organizations and people ------------------------------------------------------------------

    def partner(self, *, migration_completed: bool = True, legal_name: str = "Contoso Ltd") -> Partner:
        org = self.run(
            self.builder.organization(migration_completed=migration_completed, name=legal_name, country="DE")
        )
        return Partner(org=org, admin=self.client.global_admin(org.tenant_id, org.global_admin.object_id))

    def location(self, partner: Partner, partner_type: str = "DIRECT_RESELLER") -> str:
        name = f"Location {len(partner.locations) + 1} {uuid.uuid4().hex[:6]}"
        built = self.builder.location(partner.org, name, PartnerType(partner_type), country="DE")
        location_id = to_global_id("Location", self.run(built))
        partner.locations.append(location_id)
        return location_id

    def agree(self, partner: Partner, *kinds: str, active: bool = True) -> None:
        self.run(self.builder.agree(partner.org, *(AgreementKind(kind) for kind in kinds), active=active))

    def user(self, partner: Partner) -> Caller:
        """A signed-in user of the partner's tenant with no stored role."""
        return self.client.caller(partner.tenant_id)

    def caller(self, partner: Partner, kind: str) -> Caller:
        """A new caller of the partner by role name, or "member" (no role), or "operator"."""
        if kind == "GLOBAL_ADMIN":
            return self.client.global_admin(partner.tenant_id)
        if kind == "member":
            return self.user(partner)
        if kind == "operator":
            return self.client.operator()
        return self.member(partner, kind)

    def member(
        self,
        partner: Partner,
        role: str,
        *,
        locations: Sequence[str] | None = None,
        programs: Sequence[str] | None = None,
    ) -> Caller:
        """A user of the partner's tenant holding `role` (assigned by its Global admin) over the scope."""
        caller = self.user(partner)
        self.assign(partner, caller, role, locations=locations, programs=programs)
        return caller

    def assign(
        self,
        partner: Partner,
        caller: Caller,
        role: str,
        *,
        locations: Sequence[str] | None = None,
        programs: Sequence[str] | None = None,
    ) -> str:
        """The role assignment's id."""
        assigned = self.builder.assign(
            partner.org,
            caller.object_id,
            Role(role),
            locations=None if locations is None else [key(id, "Location") for id in locations],
            programs=None if programs is None else [key(id, "IncentiveProgram") for id in programs],
            name="Member",
        )
        return to_global_id("RoleAssignment", self.run(assigned))

    # --- programs, invitations, payout and enrollments ---------------------------------------------

    def program(self, criteria: Sequence[str] = OPEN_TO_ALL) -> str:
        code = f"T{uuid.uuid4().hex[:12].upper()}"
        created = self.builder.program(code, [CriterionKind(kind) for kind in criteria])
        return to_global_id("IncentiveProgram", self.run(created))

    def invite(self, program: str) -> int:
        """The operator issues the program's invitations; how many were created."""
        return self.run(self.builder.invite(key(program, "IncentiveProgram")))

    def invited(
        self,
        criteria: Sequence[str] = OPEN_TO_ALL,
        *,
        partner: Partner | None = None,
        partner_type: str = "DIRECT_RESELLER",
    ) -> Invited:
        """A new location (of a new partner unless given) invited to a new program, and its admin.

        A program with criteria invites only eligible locations: make the partner eligible first.
        """
        partner = partner or self.partner()
        location = self.location(partner, partner_type)
        program = self.program(criteria)
        admin = self.member(partner, "INCENTIVES_ADMIN", locations=[location], programs=[program])
        self.invite(program)
        return Invited(partner=partner, location=location, program=program, admin=admin)

    def acting_as(self, caller: Caller) -> Principal:
        """The caller with its stored roles, as the API would authenticate it."""
        identity = Identity(tenant_id=caller.tenant_id, object_id=caller.object_id)
        return self.run(self.builder.signed_in(identity))

    def payment_profile(self, invited: Invited) -> str:
        name = f"Bank {uuid.uuid4().hex[:6]}"
        created = self.builder.payment_profile(self.acting_as(invited.admin), name)
        return to_global_id("PaymentProfile", self.run(created))

    def tax_profile(self, invited: Invited, expires_on: str) -> None:
        self.run(
            self.builder.tax_profile(
                self.acting_as(invited.admin),
                key(invited.location, "Location"),
                date.fromisoformat(expires_on),
                tax_id="DE123456789",
                country="DE",
            )
        )

    def enroll(self, invited: Invited, payment_profile: str | None = None) -> str:
        """The invited admin enrolls: ACTION_REQUIRED, or VALIDATING_ENROLLMENT with both profiles."""
        enrolled = self.builder.enroll(
            self.acting_as(invited.admin),
            key(invited.location, "Location"),
            key(invited.program, "IncentiveProgram"),
            None if payment_profile is None else key(payment_profile, "PaymentProfile"),
        )
        return to_global_id("Enrollment", self.run(enrolled))

    def validating(self, invited: Invited, tax_expires_on: str) -> str:
        """Enrolled with both profiles in place: VALIDATING_ENROLLMENT."""
        self.tax_profile(invited, tax_expires_on)
        return self.enroll(invited, self.payment_profile(invited))

    def enrolled(self, invited: Invited, tax_expires_on: str) -> str:
        """Through validation and the operator's approval: ENROLLED."""
        enrollment = self.validating(invited, tax_expires_on)
        self.run(self.builder.review(key(enrollment, "Enrollment")))
        return enrollment


def enrollments_of(
    client: Client, invited: Invited, caller: Caller | None = None, fiscal_year: int | None = None
) -> list[Json]:
    """The invited location's enrollments in its program, as `caller` (its admin unless told) sees them."""
    return client.enrollments(caller or invited.admin, invited.location, invited.program, fiscal_year)


@contextmanager
def api_world(database_url: str, client: Client) -> Iterator[ApiWorld]:
    """An `ApiWorld` on `database_url`, at the API's `TODAY`, its operator of the API's operator tenant."""
    engine = engine_for(database_url)
    with loop_thread("world") as loop:
        world = World(
            session_factory(engine),
            clock=FixedClock(TODAY),
            operator=actors.operator(OPERATOR_TENANT_ID),
        )
        try:
            yield ApiWorld(world, loop, client)
        finally:
            loop.run(engine.dispose())
