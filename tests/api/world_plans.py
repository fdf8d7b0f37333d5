"""Worlds as plain data, for the differential tests: what hypothesis draws, shrinks and prints.

    plan = draw(worlds())   # a WorldPlan: organizations, locations, programs, people, enrollments
    print(describe(plan))   # the same plan in lines a person reads

A plan holds only numbers, enums and flags: organizations, locations and programs are numbered
from 1, and everything else names them by number. `tests.api.random_worlds.build` makes a world of
it through the world builder.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from hypothesis import strategies as st

from domain.access import Role
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus, InvitationChannel, PartnerType
from tests.support.world import FISCAL_YEAR, TODAY

S = EnrollmentStatus
# What an enrollment is stored as (ENROLLING and DISCONTINUED are only ever shown). ENROLLED is
# drawn three times as often: rule 8 turns on it most (a lapsed tax profile, a discontinued program).
STORED = (S.ENROLLED, S.ACTION_REQUIRED, S.VALIDATING_ENROLLMENT, S.INVITED, S.INELIGIBLE, S.INACTIVE)
DRAWN_STATUSES = (*STORED, S.ENROLLED, S.ENROLLED)
YEARS = (FISCAL_YEAR, FISCAL_YEAR - 1, FISCAL_YEAR + 1)


class Tax(enum.Enum):
    """When a tax profile expires, against the worlds' today (2026-11-21)."""

    VALID = "2028-12-31"
    TOMORROW = "2026-11-22"  # the last day it is valid is today
    TODAY = "2026-11-21"  # valid until yesterday: lapsed
    EXPIRED = "2026-01-01"

    @property
    def expires_on(self) -> date:
        return date.fromisoformat(self.value)

    @property
    def valid(self) -> bool:
        return TODAY.date() < self.expires_on

    def __repr__(self) -> str:
        return f"Tax.{self.name}"


At = tuple[int, int]  # (organization, location), each numbered from 1


@dataclass(frozen=True)
class EnrollmentPlan:
    """Written as it is: any stored status, any of three fiscal years."""

    program: int
    fiscal_year: int = FISCAL_YEAR
    status: EnrollmentStatus = S.ENROLLED
    payment_profile: bool = False  # the organization's first, when it has one


@dataclass(frozen=True)
class LocationPlan:
    partner_type: PartnerType = PartnerType.DIRECT_RESELLER
    tax_profiles: tuple[Tax, ...] = ()  # oldest first: the last is the location's current one
    enrollments: tuple[EnrollmentPlan, ...] = ()


@dataclass(frozen=True)
class AssignmentPlan:
    role: Role
    locations: tuple[int, ...] | None = None  # the organization's location numbers; None: all
    programs: tuple[int, ...] | None = None  # program numbers; None: all


@dataclass(frozen=True)
class PersonPlan:
    assignments: tuple[AssignmentPlan, ...]
    global_admin: bool = False  # the token also says Global Administrator


@dataclass(frozen=True)
class OrganizationPlan:
    locations: tuple[LocationPlan, ...] = ()
    agreements: tuple[tuple[AgreementKind, bool], ...] = ()  # each recorded (kind, active)
    designated: bool = False
    migrated: bool = True
    payment_profiles: int = 0
    people: tuple[PersonPlan, ...] = ()


@dataclass(frozen=True)
class ProgramPlan:
    criteria: tuple[CriterionKind, ...] = ()
    invited: bool = False  # the operator issues this year's invitations
    discontinued: bool = False  # after the invitations and the submissions


@dataclass(frozen=True)
class InvitationPlan:
    at: At
    program: int
    fiscal_year: int = FISCAL_YEAR
    channel: InvitationChannel = InvitationChannel.EMAIL


@dataclass(frozen=True)
class SubmissionPlan:
    """An Incentives admin enrolls (at, program) this year through the services, after the
    invitations; the operator then reviews it (True: approved) if it is being validated. Left out
    when the services refuse it (not invited, not migrated, not eligible, already under way)."""

    at: At
    program: int
    payment_profile: bool = False
    review: bool | None = None


@dataclass(frozen=True)
class WorldPlan:
    organizations: tuple[OrganizationPlan, ...]
    programs: tuple[ProgramPlan, ...]
    invitations: tuple[InvitationPlan, ...] = ()
    submissions: tuple[SubmissionPlan, ...] = ()


# --- drawing ------------------------------------------------------------------------------------------


def _numbers(count: int) -> st.SearchStrategy[tuple[int, ...] | None]:
    """None (all of them), or some of 1..count."""
    if count == 0:
        return st.none()
    some = st.lists(st.integers(1, count), min_size=1, max_size=count, unique=True)
    return st.none() | some.map(lambda drawn: tuple(sorted(drawn)))


def _assignments(locations: int, programs: int) -> st.SearchStrategy[AssignmentPlan]:
    incentives = st.builds(
        AssignmentPlan,
        role=st.sampled_from([Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER]),
        locations=_numbers(locations),
        programs=_numbers(programs),
    )
    return incentives | st.just(AssignmentPlan(Role.ACCOUNT_ADMIN))


def _locations(programs: int) -> st.SearchStrategy[LocationPlan]:
    enrollment = st.builds(
        EnrollmentPlan,
        program=st.integers(1, programs),
        fiscal_year=st.sampled_from(YEARS),
        status=st.sampled_from(DRAWN_STATUSES),
        payment_profile=st.booleans(),
    )
    return st.builds(
        LocationPlan,
        partner_type=st.sampled_from(PartnerType),
        tax_profiles=st.lists(st.sampled_from(Tax), max_size=2).map(tuple),
        enrollments=st.lists(enrollment, max_size=3, unique_by=lambda e: (e.program, e.fiscal_year)).map(
            tuple
        ),
    )


@st.composite
def _organizations(draw: st.DrawFn, programs: int, *, first: bool = False) -> OrganizationPlan:
    """An organization of 0-5 locations and 0-1 people with roles; the first of a world has 1-5
    locations and 0-3 people (the callers whose scopes matter most, at a cost each)."""
    locations = draw(st.lists(_locations(programs), min_size=1 if first else 0, max_size=5))
    person = st.builds(
        PersonPlan,
        assignments=st.lists(_assignments(len(locations), programs), min_size=1, max_size=2, unique=True).map(
            tuple
        ),
        global_admin=st.booleans(),
    )
    agreements = draw(st.dictionaries(st.sampled_from(AgreementKind), st.booleans()))
    return OrganizationPlan(
        locations=tuple(locations),
        agreements=tuple(sorted(agreements.items())),
        designated=draw(st.booleans()),
        migrated=draw(st.booleans().map(lambda unmigrated: not unmigrated)),
        payment_profiles=draw(st.integers(0, 2)),
        people=tuple(draw(st.lists(person, max_size=3 if first else 1))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> WorldPlan:
    """1-3 organizations of 0-5 locations (each with 0-3 enrollments), 1-4 programs, invitations
    and submissions."""
    programs = draw(
        st.lists(
            st.builds(
                ProgramPlan,
                criteria=st.lists(st.sampled_from(CriterionKind), max_size=2, unique=True).map(tuple),
                invited=st.booleans(),
                discontinued=st.booleans(),
            ),
            min_size=1,
            max_size=4,
        )
    )
    first = draw(_organizations(len(programs), first=True))
    organizations = [first, *draw(st.lists(_organizations(len(programs)), max_size=2))]
    places = [
        (number, location)
        for number, organization in enumerate(organizations, 1)
        for location in range(1, len(organization.locations) + 1)
    ]
    at, program = st.sampled_from(places), st.integers(1, len(programs))
    invitations = st.builds(
        InvitationPlan,
        at=at,
        program=program,
        fiscal_year=st.sampled_from(YEARS),
        channel=st.sampled_from(InvitationChannel),
    )
    submissions = st.builds(
        SubmissionPlan,
        at=at,
        program=program,
        payment_profile=st.booleans(),
        review=st.none() | st.booleans(),
    )
    return WorldPlan(
        tuple(organizations),
        tuple(programs),
        tuple(draw(st.lists(invitations, max_size=3, unique_by=lambda i: (i.at, i.program, i.fiscal_year)))),
        tuple(draw(st.lists(submissions, max_size=4, unique_by=lambda s: (s.at, s.program)))),
    )


def describe(plan: WorldPlan) -> str:
    """The plan in lines a person reads: what each organization, program and row is."""
    lines = [f"a world on {TODAY.date()} (fiscal year {FISCAL_YEAR}):"]
    lines += [_program(number, program) for number, program in enumerate(plan.programs, 1)]
    for number, organization in enumerate(plan.organizations, 1):
        lines += _organization_lines(number, organization)
    lines += [
        f"  invitation {_at(row.at)} x P{row.program} FY{row.fiscal_year}: {row.channel}"
        for row in plan.invitations
    ]
    lines += [
        f"  submission {_at(row.at)} x P{row.program}"
        + (" with a payment profile" if row.payment_profile else "")
        + {None: "", True: ", approved", False: ", rejected"}[row.review]
        for row in plan.submissions
    ]
    return "\n".join(lines)


def _program(number: int, program: ProgramPlan) -> str:
    flags = [
        word for word, on in (("invited", program.invited), ("discontinued", program.discontinued)) if on
    ]
    return f"  program P{number}: {', '.join(program.criteria) or 'open to all'}" + "".join(
        f"; {flag}" for flag in flags
    )


def _organization_lines(number: int, plan: OrganizationPlan) -> list[str]:
    agreements = ", ".join(f"{kind}{'' if active else ' (inactive)'}" for kind, active in plan.agreements)
    lines = [
        f"  organization {number}: {'migrated' if plan.migrated else 'not migrated'}; "
        f"agreements: {agreements or 'none'}; {'' if plan.designated else 'not '}designated; "
        f"{plan.payment_profiles} payment profiles"
    ]
    for index, location in enumerate(plan.locations, 1):
        taxes = " then ".join(f"{tax.name} ({tax.value})" for tax in location.tax_profiles) or "none"
        lines.append(f"    location {number}.{index}: {location.partner_type}; tax profiles: {taxes}")
        lines += [
            f"      enrollment in P{row.program} FY{row.fiscal_year}: {row.status}"
            + (", with a payment profile" if row.payment_profile else "")
            for row in location.enrollments
        ]
    for index, person in enumerate(plan.people, 1):
        roles = "; ".join(_assignment(assignment) for assignment in person.assignments)
        also = " (and Global admin)" if person.global_admin else ""
        lines.append(f"    person {number}.{index}: {roles}{also}")
    return lines


def _at(at: At) -> str:
    return f"location {at[0]}.{at[1]}"


def _assignment(assignment: AssignmentPlan) -> str:
    locations = "all locations" if assignment.locations is None else f"locations {list(assignment.locations)}"
    programs = "all programs" if assignment.programs is None else f"programs {list(assignment.programs)}"
    if assignment.role is Role.ACCOUNT_ADMIN:
        return str(assignment.role)
    return f"{assignment.role} of {locations} x {programs}"
