"""The demo's sample data, written through the domain services so that every rule holds.

Two partner organizations in their own tenants (Contoso Ltd, Sweden; Fabrikam SARL, France),
an operator tenant, two programs, role assignments, invitations, profiles, and one enrollment
that the operator has approved. `CAST` and `COLLEAGUES` (no role yet) are the tenants' directories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.authenticate import principal_of
from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE, Identity, Principal
from domain.access import Role
from domain.model import Location, Organization, Program
from domain.services import (
    enrollment,
    invitations,
    organizations,
    payout,
    programs,
    roles,
)
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType

OPERATOR_TENANT_ID = "d171ce6e-b960-4e0b-8fb8-b5e5b3484dda"
CONTOSO_TENANT_ID = "c06c29f2-2fb6-45ff-8d4c-f73a43b68d89"
FABRIKAM_TENANT_ID = "28d68885-8aa9-46f0-9e7c-7de902654d28"


@dataclass(frozen=True)
class Person:
    """A sample user: who they are in Entra ID, and what the demo calls them."""

    key: str  # names the token: GLOBAL_ADMIN_TOKEN in the banner, "global_admin" in tokens.json
    label: str
    tenant_id: str
    object_id: str
    name: str
    email: str
    app_roles: frozenset[str] = field(default=frozenset())
    wids: frozenset[str] = field(default=frozenset())

    @property
    def variable(self) -> str:
        return f"{self.key.upper()}_TOKEN"

    def identity(self) -> Identity:
        return Identity(
            tenant_id=self.tenant_id,
            object_id=self.object_id,
            display_name=self.name,
            email=self.email,
            app_roles=self.app_roles,
            wids=self.wids,
            scopes=frozenset({"access_as_user"}),
        )


CONTOSO_GLOBAL_ADMIN = Person(
    "global_admin",
    "Global admin (Contoso)",
    CONTOSO_TENANT_ID,
    "3f41a60f-7775-4500-8962-911eddfa91be",
    "Astrid Lindqvist",
    "astrid@contoso.example",
    wids=frozenset({GLOBAL_ADMINISTRATOR_WID}),
)
CONTOSO_ACCOUNT_ADMIN = Person(
    "account_admin",
    "Account admin (Contoso)",
    CONTOSO_TENANT_ID,
    "f49de089-2d76-476b-9f3a-535e408b4542",
    "Erik Johansson",
    "erik@contoso.example",
)
CONTOSO_INCENTIVES_ADMIN = Person(
    "incentives_admin",
    "Incentives admin (Contoso Stockholm and Malmö)",
    CONTOSO_TENANT_ID,
    "0d429aab-81ba-4515-ad17-04f8d88fbdb9",
    "Maja Berg",
    "maja@contoso.example",
)
CONTOSO_INCENTIVES_USER = Person(
    "incentives_user",
    "Incentives user (all of Contoso)",
    CONTOSO_TENANT_ID,
    "20a55645-59be-43f5-9921-ec6df861f804",
    "Lars Nilsson",
    "lars@contoso.example",
)
FABRIKAM_GLOBAL_ADMIN = Person(
    "fabrikam_global_admin",
    "Global admin (Fabrikam)",
    FABRIKAM_TENANT_ID,
    "fd91d259-d1c7-489b-bc9a-f71de3e077f4",
    "Camille Martin",
    "camille@fabrikam.example",
    wids=frozenset({GLOBAL_ADMINISTRATOR_WID}),
)
OPERATOR = Person(
    "operator",
    "Operator (incentives operations)",
    OPERATOR_TENANT_ID,
    "8fb3792a-c1f9-47d9-a738-5bc3a638675a",
    "Olivia Okafor",
    "olivia@operator.example",
    app_roles=frozenset({OPERATOR_APP_ROLE}),
)
CAST = (
    CONTOSO_GLOBAL_ADMIN,
    CONTOSO_ACCOUNT_ADMIN,
    CONTOSO_INCENTIVES_ADMIN,
    CONTOSO_INCENTIVES_USER,
    FABRIKAM_GLOBAL_ADMIN,
    OPERATOR,
)


@dataclass(frozen=True)
class Colleague:
    """Someone in a sample tenant's directory with no role yet: found by `directoryUsers`."""

    tenant_id: str
    object_id: str
    name: str
    email: str


COLLEAGUES = (
    Colleague(CONTOSO_TENANT_ID, "6f56c4f7-6479-4123-b322-5b1a99e70be5", "Nils Ek", "nils@contoso.example"),
    Colleague(
        FABRIKAM_TENANT_ID, "2070338b-f7e4-4137-ac82-bb7376350206", "Léa Moreau", "lea@fabrikam.example"
    ),
)

CSP_CRITERIA = (
    CriterionKind.PARTNER_PROGRAM_AGREEMENT,
    CriterionKind.DISTRIBUTOR_AGREEMENT,
    CriterionKind.RESELLER_AGREEMENT,
    CriterionKind.SOLUTIONS_PARTNER_DESIGNATION,
)
LocationSpec = tuple[str, str, PartnerType]


class Seeder:
    """Acts as one sample user after another, each call its own unit of work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._sessions)

    async def as_(self, person: Person) -> Principal:
        """The person as the API would see them now (their organization and stored roles)."""
        return await principal_of(person.identity(), self.uow(), OPERATOR_TENANT_ID)


async def seed(sessions: async_sessionmaker[AsyncSession], *, public_url: str) -> None:
    """Write the sample data into a migrated, empty database."""
    seeder = Seeder(sessions)
    operator = await seeder.as_(OPERATOR)
    contoso, stockholm, malmo = await _contoso(seeder)
    fabrikam = await _fabrikam(seeder)
    csp, co_op = await _programs(seeder, operator)
    # Roles before agreements: the agreements invite at once (rule 18), and the invitation emails
    # go to whoever covers the locations then; Stockholm and Malmö have their Incentives admin.
    # Their links name the demo's port (public_url), as every other email's.
    await _assign_roles(seeder, administered=[stockholm.id, malmo.id], public_url=public_url)
    await _agreements(seeder, operator, contoso, list(AgreementKind), designated=True, public_url=public_url)
    await _agreements(
        seeder,
        operator,
        fabrikam,
        [AgreementKind.PARTNER_PROGRAM, AgreementKind.RESELLER],
        public_url=public_url,
    )
    for program in (csp, co_op):
        await invitations.issue_invitations(
            seeder.uow(), operator, program_id=program.id, public_url=public_url
        )
    await _enroll(seeder, operator, stockholm, csp, public_url=public_url)


async def _contoso(seeder: Seeder) -> tuple[Organization, Location, Location]:
    org, locations = await _organization(
        seeder,
        CONTOSO_GLOBAL_ADMIN,
        "Contoso Ltd",
        "SE",
        [
            ("Contoso Stockholm", "SE", PartnerType.DIRECT_RESELLER),
            ("Contoso Distribution Göteborg", "SE", PartnerType.INDIRECT_PROVIDER),
            ("Contoso Malmö", "SE", PartnerType.INDIRECT_RESELLER),
        ],
    )
    return org, locations[0], locations[2]


async def _fabrikam(seeder: Seeder) -> Organization:
    org, _ = await _organization(
        seeder,
        FABRIKAM_GLOBAL_ADMIN,
        "Fabrikam SARL",
        "FR",
        [
            ("Fabrikam Paris", "FR", PartnerType.INDIRECT_RESELLER),
            ("Fabrikam Lyon", "FR", PartnerType.DIRECT_RESELLER),
        ],
    )
    return org


async def _organization(
    seeder: Seeder, admin: Person, legal_name: str, country: str, locations: Sequence[LocationSpec]
) -> tuple[Organization, list[Location]]:
    org = await organizations.register_organization(
        seeder.uow(),
        await seeder.as_(admin),
        legal_name=legal_name,
        country=country,
        global_partner_id=None,
        migration_completed=True,
    )
    actor = await seeder.as_(admin)
    added = [
        await organizations.add_location(seeder.uow(), actor, name=name, country=where, partner_type=kind)
        for name, where, kind in locations
    ]
    return org, added


async def _programs(seeder: Seeder, operator: Principal) -> tuple[Program, Program]:
    csp = await programs.create_program(
        seeder.uow(), operator, code="CSP-FY", name="Cloud Solution Provider", criteria=CSP_CRITERIA
    )
    co_op = await programs.create_program(
        seeder.uow(), operator, code="CO-OP", name="Co-op marketing funds", criteria=[]
    )
    return csp, co_op


async def _agreements(
    seeder: Seeder,
    operator: Principal,
    org: Organization,
    kinds: Sequence[AgreementKind],
    *,
    designated: bool = False,
    public_url: str,
) -> None:
    for kind in kinds:
        await organizations.record_agreement(
            seeder.uow(), operator, organization_id=org.id, kind=kind, active=True, public_url=public_url
        )
    if designated:
        await organizations.set_solutions_partner_designation(
            seeder.uow(), operator, organization_id=org.id, designated=True, public_url=public_url
        )


async def _assign_roles(seeder: Seeder, *, administered: list[int], public_url: str) -> None:
    """An Account admin, an Incentives admin of `administered` locations, an Incentives user of all."""
    admin = await seeder.as_(CONTOSO_GLOBAL_ADMIN)
    assignments = [
        (CONTOSO_ACCOUNT_ADMIN, Role.ACCOUNT_ADMIN, None),
        (CONTOSO_INCENTIVES_ADMIN, Role.INCENTIVES_ADMIN, administered),
        (CONTOSO_INCENTIVES_USER, Role.INCENTIVES_USER, None),
    ]
    for person, role, location_ids in assignments:
        await roles.assign_role(
            seeder.uow(),
            admin,
            user_object_id=person.object_id,
            display_name=person.name,
            email=person.email,
            role=role,
            location_ids=location_ids,
            program_ids=None,
            public_url=public_url,
        )


async def _enroll(
    seeder: Seeder, operator: Principal, location: Location, program: Program, *, public_url: str
) -> None:
    """The Incentives admin completes both profiles and enrolls; the operator approves."""
    admin = await seeder.as_(CONTOSO_INCENTIVES_ADMIN)
    expires_on = seeder.uow().clock.today() + timedelta(days=2 * 365)
    await payout.set_tax_profile(
        seeder.uow(),
        admin,
        location_id=location.id,
        tax_id="SE556677889901",
        country="SE",
        expires_on=expires_on,
    )
    profile = await payout.create_payment_profile(
        seeder.uow(),
        admin,
        name="Contoso main account",
        currency="SEK",
        bank_account_number="SE45 5000 0000 0583 9825 7466",
    )
    enrolled = await enrollment.enroll(
        seeder.uow(), admin, location_id=location.id, program_id=program.id, payment_profile_id=profile.id
    )
    await enrollment.review_enrollment(
        seeder.uow(), operator, enrollment_id=enrolled.id, approved=True, reason=None, public_url=public_url
    )
