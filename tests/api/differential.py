"""The planned read path against graphql-core: the same operations, callers and world, compared.

    world = await edge_world(World(sessions))       # every case the read model must get right
    compared = await compare(world, corpus(world))  # differences (none expected) and counts

Both answers come from the same schema, context and database: one built with the planned reads
(`build_schema()`), one without (`build_schema(planned=False)`), so graphql-core's executor and the
Strawberry resolvers are the reference. Errors are compared as a set (graphql-core's order follows
its scheduling of concurrent resolvers, which is not part of any contract); everything else,
data and nulls included, must be equal.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import strawberry
from graphql import (
    ArgumentNode,
    GraphQLError,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValueNode,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from strawberry.http import process_result

from adapters.budgets import InProcessBudgets
from adapters.events import InProcessBus
from api.composition import Services
from api.graphql.context import Context
from api.graphql.ids import to_global_id
from api.graphql.pagination import encode_cursor
from api.graphql.schema import build_schema
from api.read.extension import Plans
from api.read.lane import Lane
from auth.authenticate import Authenticator, Unconfirmed
from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE, Identity, Principal
from domain.access import Role
from domain.directory import DirectoryUser
from domain.errors import NotConfigured
from domain.model import TaxProfile
from domain.vocabulary import AgreementKind, CriterionKind, EnrollmentStatus, InvitationChannel, PartnerType
from tests.support import actors
from tests.support.world import FISCAL_YEAR, World

Json = dict[str, Any]
TESTS = Path(__file__).resolve().parents[1]


GLOBAL_ADMIN_WIDS = frozenset({GLOBAL_ADMINISTRATOR_WID})


def caller(
    tenant: str,
    object_id: str,
    *,
    wids: frozenset[str] = frozenset(),
    roles: frozenset[str] = frozenset(),
    app: bool = False,
) -> Identity:
    """A token's identity, as a caller of the comparison signs in with (`World.signed_in`)."""
    return Identity(
        tenant_id=tenant, object_id=object_id, display_name="Pat", wids=wids, app_roles=roles, is_app=app
    )


@dataclass
class EdgeWorld:
    """What the corpus reads: ids of every kind, and every kind of caller."""

    world: World
    ids: dict[str, str] = field(default_factory=dict)  # name -> global id
    callers: dict[str, Principal] = field(default_factory=dict)
    cursors: list[str] = field(default_factory=list)
    # The ids `nodes` is asked for together, a group at a time, by `few_cases`; empty: all at once.
    id_groups: list[list[str]] = field(default_factory=list)


async def edge_world(world: World) -> EdgeWorld:
    """Two organizations, programs open, with criteria and discontinued, enrollments in every
    status (an ENROLLED one whose tax profile lapsed, a past fiscal year's), and callers of every role."""
    edge = EdgeWorld(world)
    contoso = await world.organization(name="Contoso Ltd", country="SE")
    fabrikam = await world.organization(name="Fabrikam SARL", country="FR")
    stockholm = await world.location(contoso, "Stockholm", PartnerType.DIRECT_RESELLER)
    gothenburg = await world.location(contoso, "Gothenburg", PartnerType.INDIRECT_PROVIDER)
    malmo = await world.location(contoso, "Malmo", PartnerType.INDIRECT_RESELLER)
    paris = await world.location(fabrikam, "Paris", PartnerType.DIRECT_RESELLER)
    await world.agree(contoso, AgreementKind.PARTNER_PROGRAM, AgreementKind.RESELLER, designated=True)
    await world.agree(fabrikam, AgreementKind.PARTNER_PROGRAM)
    csp = await world.program(
        "CSP", [CriterionKind.PARTNER_PROGRAM_AGREEMENT, CriterionKind.RESELLER_AGREEMENT]
    )
    open_ = await world.program("OPEN")
    old = await world.program("OLD", [CriterionKind.PARTNER_PROGRAM_AGREEMENT])
    await world.invite(csp)
    await world.invite(open_)
    new = await world.program("NEW", [CriterionKind.PARTNER_PROGRAM_AGREEMENT])  # invited nowhere

    admin_id, admin2_id, user_id, account_id, member_id = (actors.new_guid() for _ in range(5))
    await world.assign(
        contoso, admin_id, Role.INCENTIVES_ADMIN, locations=[stockholm], programs=[csp], name="Ines"
    )
    await world.assign(contoso, admin2_id, Role.INCENTIVES_ADMIN, locations=[gothenburg, malmo], name="Ivar")
    await world.assign(contoso, user_id, Role.INCENTIVES_USER, name="Ugo")
    await world.assign(contoso, account_id, Role.ACCOUNT_ADMIN, name="Alma")

    enrolled = await world.enrolled(contoso, stockholm, csp, tax_expires=date(2028, 6, 30))
    admin2 = actors.incentives_admin(contoso.tenant_id, contoso.id, locations=[gothenburg, malmo])
    action = await world.enroll(admin2, gothenburg, open_)  # no tax profile: ACTION_REQUIRED
    await world.tax_profile(admin2, malmo, date(2029, 1, 1))
    profile = await world.payment_profile(admin2, "Malmo account", account="SE4550000000058398257466")
    validating = await world.enroll(admin2, malmo, open_, profile)
    async with world.raw() as raw:
        lapsed = await raw.enrollment(gothenburg, new, status=EnrollmentStatus.ENROLLED)
        await raw.add(
            TaxProfile(location_id=gothenburg, tax_id="SE-OLD", country="SE", expires_on=date(2026, 1, 1))
        )
        discontinued = await raw.enrollment(stockholm, old, status=EnrollmentStatus.ENROLLED)
        past = await raw.enrollment(malmo, csp, status=EnrollmentStatus.ENROLLED, fiscal_year=FISCAL_YEAR - 1)
        far = await raw.enrollment(paris, new, status=EnrollmentStatus.VALIDATING_ENROLLMENT)
        invitation = await raw.invitation(
            malmo, old, fiscal_year=FISCAL_YEAR, channel=InvitationChannel.EMAIL
        )
    await world.discontinue(old)

    for name, kind, key in [
        ("contoso", "Organization", contoso.id),
        ("fabrikam", "Organization", fabrikam.id),
        ("stockholm", "Location", stockholm),
        ("gothenburg", "Location", gothenburg),
        ("malmo", "Location", malmo),
        ("paris", "Location", paris),
        ("csp", "IncentiveProgram", csp),
        ("open", "IncentiveProgram", open_),
        ("old", "IncentiveProgram", old),
        ("enrolled", "Enrollment", enrolled),
        ("action", "Enrollment", action),
        ("validating", "Enrollment", validating),
        ("lapsed", "Enrollment", lapsed.id),
        ("discontinued", "Enrollment", discontinued.id),
        ("past", "Enrollment", past.id),
        ("far", "Enrollment", far.id),
        ("profile", "PaymentProfile", profile),
        ("invitation", "Invitation", invitation.id),
        ("missing", "Location", 987654),
        ("audit", "AuditEvent", 1),
    ]:
        edge.ids[name] = to_global_id(kind, key)
    edge.ids["malformed"] = "not-an-id"
    edge.cursors = [encode_cursor(stockholm), encode_cursor(csp), "bm9wZQ"]

    operator_tenant = world.operator.tenant_id
    identities = {
        "global admin": caller(contoso.tenant_id, contoso.global_admin.object_id, wids=GLOBAL_ADMIN_WIDS),
        "account admin": caller(contoso.tenant_id, account_id),
        "incentives admin": caller(contoso.tenant_id, admin_id),
        "incentives admin 2": caller(contoso.tenant_id, admin2_id),
        "incentives user": caller(contoso.tenant_id, user_id),
        "member": caller(contoso.tenant_id, member_id),
        "other global admin": caller(
            fabrikam.tenant_id, fabrikam.global_admin.object_id, wids=GLOBAL_ADMIN_WIDS
        ),
        "stranger": caller(actors.new_guid(), actors.new_guid(), wids=GLOBAL_ADMIN_WIDS),
        "operator": caller(operator_tenant, actors.new_guid(), roles=frozenset({OPERATOR_APP_ROLE})),
        "operator daemon": caller(
            operator_tenant, actors.new_guid(), roles=frozenset({OPERATOR_APP_ROLE}), app=True
        ),
    }
    for name, identity in identities.items():
        edge.callers[name] = await world.signed_in(identity)
    return edge


# --- the corpus -------------------------------------------------------------------------------------

DASHBOARD = """{ viewer { organization { locations(first: 50) { edges { node { partnerId name
  enrollments(first: 5) { edges { node { status fiscalYear program { code name } } } } } } } } } }"""

ENROLLMENT_FIELDS = """id __typename fiscalYear status earningsStartDate actionRequiredReason
  program { id code name status openToAllPartners criteria } location { id name partnerType }
  paymentProfile { id name currency bankAccountLast4 }"""

CURATED = [
    DASHBOARD,
    "{ currentFiscalYear viewer { objectId tenantId displayName isOperator isGlobalAdmin roles } }",
    """{ viewer { organization { id globalPartnerId legalName country migrationCompleted
      hasSolutionsPartnerDesignation agreements { kind active }
      paymentProfiles { id name currency bankAccountLast4 }
      locations { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
        id partnerId name country partnerType taxProfile { id taxId country expiresOn }
        organization { legalName }
        enrollments { totalCount edges { node { """
    + ENROLLMENT_FIELDS
    + """ } } } } } } } } }""",
    "query($id: ID!) { node(id: $id) { id __typename ... on Enrollment { " + ENROLLMENT_FIELDS + " } } }",
    """query($id: ID!) { node(id: $id) { __typename ... on Location { name taxProfile { taxId }
      enrollments(first: 2) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { status } } } }
      ... on Organization { legalName locations(first: 1) { edges { node { name } } } }
      ... on IncentiveProgram { code criteria openToAllPartners }
      ... on PaymentProfile { name bankAccountLast4 } ... on TaxProfile { taxId expiresOn } } }""",
    """query($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on Enrollment { status }
      ... on Location { name } } }""",
    """query($first: Int, $after: String) { programs(first: $first, after: $after) { totalCount
      pageInfo { hasNextPage endCursor } edges { cursor node { id code name status criteria } } } }""",
    """query($first: Int, $after: String) { organizations(first: $first, after: $after) { totalCount
      edges { node { legalName locations { edges { node { name
        enrollments { edges { node { status } } } } } } } } } }""",
    """query($status: EnrollmentStatus, $first: Int) {
      enrollments(status: $status, first: $first) { totalCount edges { node {
        id status fiscalYear actionRequiredReason location { name } program { code } } } } }""",
    """query($year: Int) { viewer { organization { locations { edges { node { name
      enrollments(fiscalYear: $year) { totalCount edges { node { fiscalYear status } } } } } } } } }""",
    """query($skip: Boolean!, $include: Boolean!) { viewer { organization { legalName @skip(if: $skip)
      locations @include(if: $include) { edges { node { name partnerId @include(if: $include) } } } } } }""",
    """{ a: programs(first: 1) { edges { node { code } } }
      b: programs(first: 2) { totalCount edges { node { name } } }
      viewer { ...Me organization { ...Org } } } fragment Me on Viewer { objectId roles }
      fragment Org on Organization { legalName
        locations(first: 2) { edges { node { ... on Location { name } } } } }""",
    "{ viewer { organization { locations(first: 0) { totalCount } legalName } } }",
    """{ viewer { organization { locations(first: 101) { totalCount } } }
      programs(first: 500) { totalCount } }""",
    '{ programs(after: "bm9wZQ") { totalCount } viewer { organization { legalName } } }',
    "{ organizations { totalCount } enrollments { totalCount } viewer { isOperator } }",
    """query($first: Int, $last: Int, $after: String, $before: String) {
      programs(first: $first, last: $last, after: $after, before: $before) { totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { code } } }
      organizations(first: $first, last: $last, after: $after, before: $before) {
        pageInfo { hasPreviousPage startCursor } edges { cursor node { legalName } } } }""",
    """query($first: Int, $last: Int, $after: String, $before: String) { viewer { organization {
      locations(first: $first, last: $last, after: $after, before: $before) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { name enrollments(last: 1) { pageInfo { hasPreviousPage startCursor }
          edges { node { status fiscalYear } } } } } } } } }""",
    """{ viewer { organization { auditLog(last: 2) { totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { action } } }
      roleAssignments(last: 2) { pageInfo { hasPreviousPage } edges { cursor } } } } }""",
    """{ organizations(last: 2) { edges { node { locations(last: 1) { pageInfo { hasPreviousPage
      hasNextPage startCursor endCursor } edges { node { name enrollments(last: 2, first: 1) {
        totalCount } } } } } } } enrollments(last: 3) { pageInfo { hasPreviousPage startCursor }
      edges { cursor node { status } } } }""",
    '{ programs(last: 2, before: "bm9wZQ") { totalCount } viewer { organization { legalName } } }',
]


SAMPLE_IDS = ("contoso", "stockholm", "paris", "lapsed", "csp", "malformed")


def variable_sets(
    document: str, edge: EdgeWorld, *, all_ids: bool = True, every_case: bool = True
) -> Iterator[Json]:
    """Values for the document's variables: every id (or a sample), paging edge cases, each status
    and year; or, without `every_case`, a few of each kind (`few_cases`)."""
    operation = _operation(document)
    names = {definition.variable.name.value for definition in operation.variable_definitions or ()}
    if not names:
        yield {}
        return
    if not every_case:
        yield from few_cases(names, edge)
        return
    ids = list(edge.ids.values()) if all_ids else [edge.ids[name] for name in SAMPLE_IDS]
    if "ids" in names:
        yield {"ids": ids}
        yield {"ids": [*ids] * 6}  # more than 100
        return
    if "id" in names:
        for value in ids:
            yield {"id": value}
        return
    if "status" in names:
        for status in [None, *EnrollmentStatus]:
            yield {"status": None if status is None else status.value, "first": 3}
        return
    if "year" in names:
        for year in (None, FISCAL_YEAR, FISCAL_YEAR - 1, FISCAL_YEAR + 1, 1999):
            yield {"year": year}
        return
    if "skip" in names:
        for skip in (True, False):
            for include in (True, False):
                yield {"skip": skip, "include": include}
        return
    for first in (None, 1, 2, 0, 101):
        yield {"first": first}
    for after in edge.cursors:
        yield {"first": 2, "after": after}
    if "last" in names:
        yield from _backward(edge.cursors)


def few_cases(names: set[str], edge: EdgeWorld) -> Iterator[Json]:
    """A few values of each kind, for worlds that vary the data rather than the variables: every id
    (`ids`: a group of `id_groups` at a time) or two far apart (`id`), the statuses and years rule 8
    turns on, pages forward and backward, from an end and from a cursor."""
    ids, cursor = list(edge.ids.values()), edge.cursors[0]
    if "ids" in names:
        yield from ({"ids": group} for group in edge.id_groups or [ids])
    elif "id" in names:
        yield from ({"id": ids[len(ids) * half // 2]} for half in range(2))
    elif "status" in names:
        for status in (
            EnrollmentStatus.ACTION_REQUIRED,
            EnrollmentStatus.ENROLLED,
            EnrollmentStatus.DISCONTINUED,
        ):
            yield {"status": status.value, "first": 100}
    elif "year" in names:
        yield from ({"year": year} for year in (FISCAL_YEAR - 1, FISCAL_YEAR + 1))
    elif "skip" in names:
        yield {"skip": False, "include": True}
    elif "last" in names:
        yield from ({"first": 2, "after": cursor}, {"last": 2}, {"last": 1, "before": cursor})
    else:
        yield from ({"first": 1}, {"first": 2, "after": cursor})


def _backward(cursors: list[str]) -> Iterator[Json]:
    """`last`/`before` cases: pages backward, bounded on one side or both, and both sizes (refused)."""
    for last in (None, 1, 2, 0, 101):
        yield {"last": last}
    for before in cursors:
        yield {"last": 2, "before": before}
        yield {"first": 1, "before": before}
        yield {"last": 1, "after": before}
        for after in cursors:
            yield {"last": 5, "after": after, "before": before}
    yield {"first": 2, "last": 2}


READ_FIELDS = ("viewer", "currentFiscalYear", "organizations", "enrollments", "programs", "node", "nodes")
SDL = (TESTS.parent / "schema.graphql").read_text(encoding="utf-8")


def generated(edge: EdgeWorld, count: int, cache: pytest.Cache | None = None) -> list[str]:
    """Up to `count` distinct read operations drawn by hypothesis-graphql from the committed SDL (the
    same ones on every run for one SDL), their ids and cursors swapped for the edge world's, so that
    `node` finds things. A quarter more are drawn, as some draws repeat others."""
    return with_ids(drawn_reads(count, cache), edge)[:count]


def drawn_reads(count: int, cache: pytest.Cache | None = None) -> list[str]:
    """A quarter more than `count` read operations, drawn by hypothesis-graphql from the committed
    SDL, the same ones on every run (not to be called inside another `@given`). Given pytest's
    `cache`, they are drawn once for every worker and every run, kept under a key of what decides
    them: the SDL, the count and the two libraries' versions (drawing 250 takes some 15 s)."""
    if cache is None:
        return _draw(count)
    versions = f"{hypothesis.__version__} {metadata.version('hypothesis-graphql')}"
    key = hashlib.sha256(f"{SDL}\n{count}\n{versions}".encode()).hexdigest()[:16]
    folder = cache.mkdir("drawn-reads")
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker drawing the same waits, then reads them
        kept = folder / f"{key}.json"
        if kept.exists():
            found: list[str] = json.loads(kept.read_text(encoding="utf-8"))
            return found
        drawn = _draw(count)
        kept.write_text(json.dumps(drawn), encoding="utf-8")
        return drawn


def _draw(count: int) -> list[str]:
    drawn: list[str] = []
    scalars = {
        "Date": st.dates().map(lambda day: StringValueNode(value=day.isoformat())),
        "DateTime": st.datetimes().map(lambda at: StringValueNode(value=at.isoformat() + "Z")),
    }

    @settings(
        max_examples=count + count // 4,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(queries(SDL, fields=READ_FIELDS, custom_scalars=scalars))
    def draw(document: str) -> None:
        drawn.append(document)

    draw()
    return drawn


def with_ids(documents: Sequence[str], edge: EdgeWorld) -> list[str]:
    """The documents, distinct and sorted, each `id`, `ids`, `after` and `before` argument swapped for
    one of the world's ids and cursors."""
    ids, cursors = list(edge.ids.values()), edge.cursors
    return sorted({print_ast(visit(parse(text), _Ids(ids, cursors))) for text in documents})


class _Ids(Visitor):
    """Replaces each `id`, `ids`, `after` and `before` argument with one of the world's (chosen by
    its text)."""

    def __init__(self, ids: list[str], cursors: list[str]) -> None:
        super().__init__()
        self.ids, self.cursors = ids, cursors

    def enter_argument(self, node: ArgumentNode, *_: object) -> ArgumentNode | None:
        def pick(choices: list[str], value: ValueNode) -> StringValueNode:
            return StringValueNode(value=choices[zlib.crc32(print_ast(value).encode()) % len(choices)])

        name, value = node.name.value, node.value
        if name == "id":
            return ArgumentNode(name=node.name, value=pick(self.ids, value))
        if name in ("after", "before"):
            return ArgumentNode(name=node.name, value=pick(self.cursors, value))
        if name == "ids" and isinstance(value, ListValueNode):
            picked = tuple(pick(self.ids, item) for item in value.values)
            return ArgumentNode(name=node.name, value=ListValueNode(values=picked))
        return None


def from_tests(schema: strawberry.Schema) -> list[str]:
    """Every query document written as a string in the test suite that validates against the schema."""
    found: set[str] = set()
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value:
                text = node.value.strip()
                if _is_query(schema, text):
                    found.add(text)
    return sorted(found)


def _is_query(schema: strawberry.Schema, text: str) -> bool:
    try:
        document = parse(text)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return False
    return not validate(schema._schema, document)


def _operation(document: str) -> OperationDefinitionNode:
    [operation] = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    return operation


# --- comparing ----------------------------------------------------------------------------------------


class NoDirectory:
    """The service without Graph credentials: the directory says it is not configured."""

    async def user_by_principal_name(self, tenant_id: str, user_principal_name: str) -> DirectoryUser | None:
        raise NotConfigured("Microsoft Graph is not configured: set AZURE_CLIENT_SECRET")

    async def search_users(self, tenant_id: str, text: str, limit: int = 20) -> list[DirectoryUser]:
        raise NotConfigured("Microsoft Graph is not configured: set AZURE_CLIENT_SECRET")


class NoTokens:
    async def validate(self, authorization: Sequence[str]) -> Identity:
        raise AssertionError("the differential tests sign callers in themselves")


def services_for(world: World) -> Services:
    sessions: async_sessionmaker[AsyncSession] = world.sessions
    return Services(
        clock=world.clock,
        engine=sessions.kw["bind"],
        sessions=sessions,
        authenticator=Authenticator(NoTokens(), sessions, world.operator.tenant_id),
        events=InProcessBus(),
        directory=NoDirectory(),
        public_url="https://partner.example",
        mail_queued=lambda: None,
        budgets=InProcessBudgets(10**12),  # the comparison runs every document twice per caller
    )


@dataclass
class Compared:
    operations: int = 0
    runs: int = 0
    planned: int = 0  # runs the planned path answered itself (the rest it left to graphql-core)
    lane: int = 0  # runs the lane answered (api/read/lane.py), compared with the planned path's
    differences: list[str] = field(default_factory=list)


PLANS = Plans()
PLANNED = build_schema(plans=PLANS)
REFERENCE = build_schema(planned=False)
LANE = Lane(PLANS)


async def compare(
    edge: EdgeWorld,
    documents: Sequence[str],
    *,
    callers: Sequence[str] | None = None,
    all_ids: bool = True,
    every_case: bool = True,
) -> Compared:
    services = services_for(edge.world)
    compared = Compared()
    for document in documents:
        compared.operations += 1
        for variables in variable_sets(document, edge, all_ids=all_ids, every_case=every_case):
            for name in callers or list(edge.callers):
                principal = edge.callers[name]
                before = PLANS.answered
                planned = await _answer(PLANNED, services, principal, document, variables, remembered=True)
                reference = await _answer(REFERENCE, services, principal, document, variables)
                compared.runs += 1
                compared.planned += PLANS.answered - before
                if _normal(planned) != _normal(reference):
                    compared.differences.append(
                        f"{name} {json.dumps(variables)}\n{document}\nplanned:   {json.dumps(planned)}\n"
                        f"reference: {json.dumps(reference)}"
                    )
                # Asked again, the request has a plan: the lane answers it (else Strawberry's view).
                laned = await _lane_answer(services, principal, document, variables)
                if laned is None:
                    continue
                compared.lane += 1
                if _normal(laned) != _normal(planned) or "cost" not in laned.get("extensions", {}):
                    compared.differences.append(
                        f"{name} {json.dumps(variables)}\n{document}\nlane:    {json.dumps(laned)}\n"
                        f"planned: {json.dumps(planned)}"
                    )
    return compared


async def planned_answer(edge: EdgeWorld, caller_name: str, document: str, variables: Json) -> Json:
    """The planned schema's answer to one request of the caller named, as `compare` asks it."""
    return await _answer(PLANNED, services_for(edge.world), edge.callers[caller_name], document, variables)


async def _lane_answer(
    services: Services, principal: Principal, document: str, variables: Json
) -> Json | None:
    scope = {"type": "http", "method": "POST", "headers": [], "state": {"request_id": "differential"}}
    body = {"query": document, "variables": variables}
    # As a remembered caller: every statement shape of the corpus carries their tenant's version.
    unconfirmed = await _remembered(services, principal)
    answered = await LANE.answer(Request(scope), body, principal, services, unconfirmed)
    if answered is None:
        return None
    answer: Json = json.loads(answered)
    return answer


async def _remembered(services: Services, principal: Principal) -> Unconfirmed:
    """The caller as remembered at their tenant's version now (to be confirmed by the read)."""
    identity = principal.identity
    key = (identity.tenant_id, identity.object_id, None, None, identity.claims_global_admin)
    return Unconfirmed(key, await services.authenticator.read_version(identity.tenant_id))


async def _answer(
    schema: strawberry.Schema,
    services: Services,
    principal: Principal,
    document: str,
    variables: Json,
    *,
    remembered: bool = False,
) -> Json:
    """The schema's answer; `remembered`: as a remembered caller, whose tenant's version Strawberry's
    planned read carries in its first statement (`api.read.versions.CarryingRows`)."""
    unconfirmed = await _remembered(services, principal) if remembered else None
    context = Context(
        request_id="differential", principal=principal, services=services, unconfirmed=unconfirmed
    )
    result = await schema.execute(document, variable_values=variables, context_value=context)
    body: Json = json.loads(json.dumps(process_result(result)))
    return body


def _normal(body: Json) -> Json:
    errors = sorted(json.dumps(error, sort_keys=True) for error in body.get("errors", []))
    return {"data": body.get("data"), "errors": errors}
