"""The read model: for each type and field the planned read answers, where the value comes from.

Each handler answers one field for every object of a level at once, and mirrors the Strawberry
resolver of that field (`api/graphql/types/`): the same access checks (`domain.access`), the same
errors at the same paths, the same values, from plain rows instead of ORM objects. The
differential tests hold the two to the same answers. A field that has no handler here sends the
whole request to graphql-core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable
from datetime import date
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar, cast

import orjson
from graphql import GraphQLObjectType
from sqlalchemy import Row

from api.graphql.errors import ForbiddenError
from api.graphql.ids import from_global_id, to_global_id
from api.graphql.nodes import MAX_NODES
from api.graphql.pagination import BadUserInputError, given, page_args, written
from api.graphql.scalars import serialize_date
from api.read import connections
from api.read.collect import Field
from api.read.connections import Counter, Paged
from api.read.engine import (
    Handler,
    Local,
    LocalFactory,
    Obj,
    ReadModel,
    Run,
    Unplannable,
    current_run,
    lasting,
    returned_type,
)
from api.read.json_pages import JsonConnection, enrollment_json
from domain import model as models
from domain.access import Action, Coverage, Role, Scope
from domain.fiscal import fiscal_year_of
from domain.queries import entities
from domain.queries.enrollments import (
    ENROLLMENT_ROWS,
    all_enrollment_rows_page,
    all_enrollments_count,
    enrollment_counts_by_location,
    enrollment_json_pages_by_location,
    enrollment_row_pages_by_location,
    enrollment_rows_by_id,
)
from domain.queries.pages import (
    PageArgs,
    Rows,
    count_of,
    counts_by_parent,
    row_page,
    row_pages_by_parent,
    rows_by_ids,
)
from domain.shown_status import shown_reason, shown_status, tax_profile_lapsed
from domain.vocabulary import PartnerType, ProgramStatus

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# What the read model reads of each table (no timestamps nobody shows: less to convert per row).
ORGANIZATIONS = Rows(
    models.Organization.__table__,
    keep=(
        "id",
        "global_partner_id",
        "legal_name",
        "country",
        "migration_completed",
        "solutions_partner_designated",
    ),
)
LOCATIONS = Rows(
    models.Location.__table__, keep=("id", "organization_id", "partner_id", "name", "country", "partner_type")
)
PROGRAMS = Rows(models.Program.__table__, keep=("id", "code", "name", "status"))
PAYMENT_PROFILES = Rows(
    models.PaymentProfile.__table__, keep=("id", "organization_id", "name", "currency", "bank_account_last4")
)
TAX_PROFILES = Rows(
    models.TaxProfile.__table__, keep=("id", "location_id", "tax_id", "country", "expires_on")
)
CONNECTIONS = [
    "OrganizationConnection",
    "LocationConnection",
    "EnrollmentConnection",
    "IncentiveProgramConnection",
]


# --- plumbing ---------------------------------------------------------------------------------------


def scalar(get: Callable[[Any], Any]) -> Handler:
    """A field read straight off each object's row."""

    async def handle(run: Run, asked: Field, objs: list[Obj]) -> None:
        key = asked.key
        for obj in objs:
            obj.out[key] = get(obj.row)

    return handle


def type_of(run: Run, name: str) -> GraphQLObjectType:
    found = run.plan.schema.get_type(name)
    assert isinstance(found, GraphQLObjectType)
    return found


async def rows_by_id(run: Run, rows: Rows, ids: Iterable[int | None]) -> dict[int, Row[Any]]:
    return await rows_by_ids(run.source, rows, (i for i in ids if i is not None))


def to_one(
    table: Rows,
    key: Callable[[Any], int | None],
    fetch: Callable[[Run, Iterable[int]], Awaitable[dict[int, Any]]] | None = None,
) -> Handler:
    """A field naming one row of `table` by the key `key(row)` gives (all of them in one SELECT)."""

    async def handle(run: Run, asked: Field, objs: list[Obj]) -> None:
        keys = [key(obj.row) for obj in objs]
        found = await (fetch(run, keys) if fetch else rows_by_id(run, table, keys))  # type: ignore[arg-type]
        await nest(run, asked, objs, [found.get(k) if k is not None else None for k in keys])

    return handle


async def nest(run: Run, asked: Field, parents: list[Obj], rows: list[Any | None]) -> None:
    """Each parent's child row (or None) becomes its object at this field, then the next level."""
    type_ = returned_type(asked)
    children = []
    for parent, row in zip(parents, rows, strict=True):
        if row is None:
            parent.out[asked.key] = None
            continue
        child = run.child(type_, row, parent, asked)
        parent.out[asked.key] = child.out
        children.append(child)
    await run.objects(asked.selection, children)


async def nest_lists(run: Run, asked: Field, parents: list[Obj], lists: list[list[Any]]) -> None:
    type_ = returned_type(asked)
    children = []
    for parent, rows in zip(parents, lists, strict=True):
        items = []
        for index, row in enumerate(rows):
            child = run.child(type_, row, parent, asked, index)
            items.append(child.out)
            children.append(child)
        parent.out[asked.key] = items
    await run.objects(asked.selection, children)


def permitted(run: Run, action: Action, scope: Scope) -> bool:
    return run.context.principal.can(action, scope)


def paging(run: Run, asked: Field, objs: list[Obj], *, descending: bool = False) -> PageArgs | None:
    """The field's checked `first`/`after`/`last`/`before`, or None after failing every object
    (BAD_USER_INPUT)."""
    arguments = run.arguments(asked)
    try:
        return page_args(
            arguments.get("first"),
            arguments.get("after"),
            arguments.get("last"),
            arguments.get("before"),
            descending=descending,
            first_written=written(asked.nodes[0], "first", run.variables.coerced),
        )
    except BadUserInputError as error:
        for obj in objs:
            run.fail(obj, asked, error)
        return None


def allowed(
    run: Run, asked: Field, objs: list[Obj], action: Action, scope: Callable[[Any], Scope]
) -> list[Obj]:
    """The objects whose row allows `action`; the others fail with FORBIDDEN at this field."""
    kept = []
    for obj in objs:
        if permitted(run, action, scope(obj.row)):
            kept.append(obj)
        else:
            run.fail(obj, asked, ForbiddenError(action))
    return kept


# --- Query ------------------------------------------------------------------------------------------


async def query_viewer(run: Run, asked: Field, objs: list[Obj]) -> None:
    await nest(run, asked, objs, [run.context.principal for _ in objs])


async def query_current_fiscal_year(run: Run, asked: Field, objs: list[Obj]) -> None:
    for obj in objs:
        obj.out[asked.key] = fiscal_year_of(run.context.today())


async def query_programs(run: Run, asked: Field, objs: list[Obj]) -> None:
    args = paging(run, asked, objs)
    if args is None:
        return
    await every(run, asked, objs, PROGRAMS, args, models.Program)


async def query_organizations(run: Run, asked: Field, objs: list[Obj]) -> None:
    kept = allowed(run, asked, objs, Action.OPERATE, lambda _: Scope())
    args = paging(run, asked, kept)
    if args is None:
        return
    await every(run, asked, kept, ORGANIZATIONS, args, models.Organization)


async def every(
    run: Run, asked: Field, objs: list[Obj], table: Rows, args: PageArgs, model: type[models.Base]
) -> None:
    page = await row_page(run.source, table, args)

    async def counts(keys: list[Hashable]) -> dict[Hashable, int]:
        total = await count_of(run.session, model)
        return dict.fromkeys(keys, total)

    counter = Counter(counts)
    node_type = type_of(run, returned_type(asked).name.removesuffix("Connection"))
    made = connections.paged(run, asked, objs, [Paged(page, node_type, counter, None) for _ in objs])
    await run.objects(asked.selection, made)


async def query_enrollments(run: Run, asked: Field, objs: list[Obj]) -> None:
    kept = allowed(run, asked, objs, Action.OPERATE, lambda _: Scope())
    args = paging(run, asked, kept)
    if args is None:
        return
    status = given(run.arguments(asked).get("status"))
    today = run.context.today()
    page = await all_enrollment_rows_page(run.source, args, status, today)

    async def counts(keys: list[Hashable]) -> dict[Hashable, int]:
        return dict.fromkeys(keys, await all_enrollments_count(run.session, status, today))

    node_type = type_of(run, "Enrollment")
    made = connections.paged(run, asked, kept, [Paged(page, node_type, Counter(counts), None) for _ in kept])
    await run.objects(asked.selection, made)


async def query_node(run: Run, asked: Field, objs: list[Obj]) -> None:
    found = await nodes_of(run, [str(run.arguments(asked)["id"])])
    await nest_nodes(run, asked, objs, [found[0] for _ in objs])


async def query_nodes(run: Run, asked: Field, objs: list[Obj]) -> None:
    ids = [str(value) for value in run.arguments(asked)["ids"]]
    if len(ids) > MAX_NODES:
        for obj in objs:
            run.fail(obj, asked, BadUserInputError(f"`ids` may hold at most {MAX_NODES} IDs."))
        return
    found = await nodes_of(run, ids)
    children = []
    for parent in objs:
        items: list[dict[str, Any] | None] = []
        for index, node in enumerate(found):
            if node is None:
                items.append(None)
                continue
            child = run.child(type_of(run, node[0]), node[1], parent, asked, index)
            items.append(child.out)
            children.append(child)
        parent.out[asked.key] = items
    await run.objects(asked.selection, children)


async def nest_nodes(run: Run, asked: Field, parents: list[Obj], nodes: list[tuple[str, Any] | None]) -> None:
    children = []
    for parent, node in zip(parents, nodes, strict=True):
        if node is None:
            parent.out[asked.key] = None
            continue
        child = run.child(type_of(run, node[0]), node[1], parent, asked)
        parent.out[asked.key] = child.out
        children.append(child)
    await run.objects(asked.selection, children)


async def nodes_of(run: Run, global_ids: list[str]) -> list[tuple[str, Any] | None]:
    """Each id's (type, row) when it names an object the caller may see, else None (as `node`)."""
    decoded = [from_global_id(value) for value in global_ids]
    wanted: dict[str, set[int]] = {}
    for item in decoded:
        if item is not None:
            wanted.setdefault(item[0], set()).add(item[1])
    visible: dict[str, dict[int, Any]] = {}
    for kind, keys in wanted.items():
        fetch = NODE_KINDS.get(kind)
        if fetch is None:
            if kind in UNPLANNED_NODE_KINDS:
                raise Unplannable(f"node of {kind}", lasting=False)
            continue
        visible[kind] = await fetch(run, keys)
    return [
        (item[0], visible[item[0]][item[1]])
        if item is not None and item[1] in visible.get(item[0], {})
        else None
        for item in decoded
    ]


async def visible_organizations(run: Run, keys: set[int]) -> dict[int, Any]:
    rows = await rows_by_id(run, ORGANIZATIONS, keys)
    return {k: r for k, r in rows.items() if permitted(run, Action.READ_ORGANIZATION, Scope(r.id))}


async def visible_locations(run: Run, keys: set[int]) -> dict[int, Any]:
    rows = await rows_by_id(run, LOCATIONS, keys)
    return {
        k: r for k, r in rows.items() if permitted(run, Action.READ_ORGANIZATION, Scope(r.organization_id))
    }


async def visible_programs(run: Run, keys: set[int]) -> dict[int, Any]:
    return await rows_by_id(run, PROGRAMS, keys)


async def visible_enrollments(run: Run, keys: set[int]) -> dict[int, Any]:
    rows = await enrollment_rows_by_id(run.source, keys)
    return {k: r for k, r in rows.items() if permitted(run, Action.READ_ENROLLMENT, enrollment_scope(r))}


async def visible_payment_profiles(run: Run, keys: set[int]) -> dict[int, Any]:
    rows = await rows_by_id(run, PAYMENT_PROFILES, keys)
    return {
        k: r for k, r in rows.items() if permitted(run, Action.READ_ORGANIZATION, Scope(r.organization_id))
    }


async def visible_tax_profiles(run: Run, keys: set[int]) -> dict[int, Any]:
    rows = await rows_by_id(run, TAX_PROFILES, keys)
    locations = await rows_by_id(run, LOCATIONS, {r.location_id for r in rows.values()})
    return {
        k: r
        for k, r in rows.items()
        if r.location_id in locations
        and permitted(
            run, Action.READ_TAX_PROFILE, Scope(locations[r.location_id].organization_id, r.location_id)
        )
    }


NODE_KINDS: dict[str, Callable[[Run, set[int]], Awaitable[dict[int, Any]]]] = {
    "Organization": visible_organizations,
    "Location": visible_locations,
    "IncentiveProgram": visible_programs,
    "Enrollment": visible_enrollments,
    "PaymentProfile": visible_payment_profiles,
    "TaxProfile": visible_tax_profiles,
}
# Kinds `node` answers that this read model does not (yet): graphql-core answers those requests.
UNPLANNED_NODE_KINDS = frozenset({"User", "RoleAssignment", "Invitation"})


# --- Viewer -----------------------------------------------------------------------------------------


def _roles(principal: Any) -> list[str]:
    return [role.value for role in sorted(principal.roles(), key=list(Role).index)]


async def viewer_organization(run: Run, asked: Field, objs: list[Obj]) -> None:
    organization_id = run.context.principal.organization_id
    found = await rows_by_id(run, ORGANIZATIONS, [] if organization_id is None else [organization_id])
    row = None if organization_id is None else found.get(organization_id)
    await nest(run, asked, objs, [row for _ in objs])


# --- Organization -----------------------------------------------------------------------------------


async def organization_locations(run: Run, asked: Field, objs: list[Obj]) -> None:
    args = paging(run, asked, objs)
    if args is None:
        return
    ids = [obj.row.id for obj in objs]
    pages = await row_pages_by_parent(run.source, LOCATIONS, LOCATIONS.table.c.organization_id, ids, args)

    async def counts(keys: list[Hashable]) -> dict[Hashable, int]:
        found = await counts_by_parent(run.session, models.Location.organization_id, [int(k) for k in keys])  # type: ignore[call-overload]
        return {key: found[int(key)] for key in keys}  # type: ignore[call-overload]

    counter = Counter(counts)
    node_type = type_of(run, "Location")
    made = connections.paged(
        run, asked, objs, [Paged(pages[obj.row.id], node_type, counter, obj.row.id) for obj in objs]
    )
    await run.objects(asked.selection, made)


async def organization_agreements(run: Run, asked: Field, objs: list[Obj]) -> None:
    found = await entities.agreements_by_organization(run.session, [obj.row.id for obj in objs])
    await nest_lists(run, asked, objs, [found[obj.row.id] for obj in objs])


async def organization_payment_profiles(run: Run, asked: Field, objs: list[Obj]) -> None:
    found = await entities.payment_profiles_by_organization(run.session, [obj.row.id for obj in objs])
    await nest_lists(run, asked, objs, [found[obj.row.id] for obj in objs])


# --- Location ---------------------------------------------------------------------------------------


def grouped_by_organization(
    objs: list[Obj], key: Callable[[int], K]
) -> tuple[dict[int, K], dict[K, list[Obj]]]:
    """`key` of each object's organization (worked out once per organization), and the objects
    (rows with an `organization_id`) grouped by it."""
    keys = {
        organization_id: key(organization_id) for organization_id in {obj.row.organization_id for obj in objs}
    }
    groups: dict[K, list[Obj]] = {}
    for obj in objs:
        groups.setdefault(keys[obj.row.organization_id], []).append(obj)
    return keys, groups


async def location_enrollments(run: Run, asked: Field, objs: list[Obj]) -> None:
    args = paging(run, asked, objs)
    if args is None:
        return
    fiscal_year = given(run.arguments(asked).get("fiscalYear"))
    as_json = None if run.rows is None else enrollment_json(run, asked)
    if as_json is not None:
        await location_enrollments_as_json(run, asked, objs, args, fiscal_year, as_json)
        return
    principal = run.context.principal
    by_organization, by_coverage = grouped_by_organization(
        objs, lambda organization_id: principal.coverage(Action.READ_ENROLLMENT, organization_id)
    )
    pages: dict[int, Any] = {}
    for coverage, group in by_coverage.items():
        ids = [obj.row.id for obj in group]
        pages.update(
            await enrollment_row_pages_by_location(
                run.source, ids, args, coverage=coverage, fiscal_year=fiscal_year
            )
        )

    async def counts(keys: list[Hashable]) -> dict[Hashable, int]:
        grouped: dict[Coverage, list[int]] = {}
        for key in keys:
            location, seen = cast(tuple[int, Coverage], key)
            grouped.setdefault(seen, []).append(location)
        found: dict[Hashable, int] = {}
        for seen, locations in grouped.items():
            counted = await enrollment_counts_by_location(
                run.session, locations, coverage=seen, fiscal_year=fiscal_year
            )
            found.update({(location, seen): n for location, n in counted.items()})
        return found

    counter = Counter(counts)
    node_type = type_of(run, "Enrollment")
    sources: list[Paged | None] = []
    for obj in objs:
        coverage = by_organization[obj.row.organization_id]
        sources.append(Paged(pages[obj.row.id], node_type, counter, (obj.row.id, coverage)))
    made = connections.paged(run, asked, objs, sources)
    await run.objects(asked.selection, made)


async def location_enrollments_as_json(
    run: Run, asked: Field, objs: list[Obj], args: PageArgs, fiscal_year: int | None, as_json: JsonConnection
) -> None:
    """`location_enrollments` with each page's edges built by PostgreSQL (`api.read.json_pages`)."""
    assert run.rows is not None
    principal = run.context.principal
    _, groups = grouped_by_organization(
        objs,
        lambda organization_id: (
            principal.coverage(Action.READ_ENROLLMENT, organization_id),
            principal.coverage(Action.READ_ENROLLMENT_DETAIL, organization_id),
        ),
    )
    today = run.context.today()
    values = {"today": today, "current_year": fiscal_year_of(today)}
    for (coverage, detail), group in groups.items():

        def item(columns: Any, detail: Coverage = detail) -> Any:
            return as_json.item(columns, detail)

        pages = await enrollment_json_pages_by_location(
            run.rows,
            [obj.row.id for obj in group],
            args,
            coverage=coverage,
            fiscal_year=fiscal_year,
            item=item,
            item_shape=(as_json.shape, detail),
            values=values,
        )
        for obj in group:
            page = pages[obj.row.id]
            obj.out[asked.key] = {
                key: orjson.Fragment(page.items) if typename is None else typename
                for key, typename in as_json.outer
            }


async def location_tax_profile(run: Run, asked: Field, objs: list[Obj]) -> None:
    kept = allowed(run, asked, objs, Action.READ_TAX_PROFILE, lambda row: Scope(row.organization_id, row.id))
    found = await entities.current_tax_profiles(run.session, [obj.row.id for obj in kept])
    await nest(run, asked, kept, [found.get(obj.row.id) for obj in kept])


# --- Enrollment -------------------------------------------------------------------------------------


def enrollment_scope(row: Any) -> Scope:
    return Scope(row.organization_id, row.location_id, row.program_id)


class ProgramRow(NamedTuple):
    """An enrollment's program, from the `program__` columns of its row: the shape of `PROGRAMS`."""

    id: int
    code: str
    name: str
    status: ProgramStatus


def _joined(rows: Rows, shape: Callable[..., T], fields: tuple[str, ...], prefix: str) -> Callable[[Any], T]:
    """Reads the row of a joined table (its `prefix` columns) off an enrollment row, as `shape`."""
    assert rows.names == fields, f"{prefix} rows are read by position"
    getters = tuple(ENROLLMENT_ROWS.get(f"{prefix}{name}") for name in fields)
    return lambda row: shape(*(get(row) for get in getters))


_program_of = _joined(PROGRAMS, ProgramRow, ProgramRow._fields, "program__")


class LocationRow(NamedTuple):
    """An enrollment's location, from the `location__` columns of its row: the shape of `LOCATIONS`."""

    id: int
    organization_id: int
    partner_id: str
    name: str
    country: str
    partner_type: PartnerType


_location = _joined(LOCATIONS, LocationRow, LocationRow._fields, "location__")
_E_LOCATION_ID = ENROLLMENT_ROWS.get("location__id")


def _location_of(row: Any) -> LocationRow | None:
    return None if _E_LOCATION_ID(row) is None else _location(row)


async def enrollment_location(run: Run, asked: Field, objs: list[Obj]) -> None:
    await nest(run, asked, objs, [_location_of(obj.row) for obj in objs])


@lasting
def _location_local(run: Run, asked: Field) -> Local | None:
    build = run.builder(returned_type(asked), asked.selection)
    if build is None:
        return None

    def location(row: Any) -> dict[str, Any] | None:
        found = _location_of(row)
        return None if found is None else build(found)

    return location


async def enrollment_program(run: Run, asked: Field, objs: list[Obj]) -> None:
    programs: dict[int, ProgramRow] = {}
    rows: list[Any] = []
    for obj in objs:
        program_id = _E_PROGRAM(obj.row)
        program = programs.get(program_id)
        if program is None:
            program = programs[program_id] = _program_of(obj.row)
        rows.append(program)
    await nest(run, asked, objs, rows)


def _lapsed(row: Any, today: date) -> bool:
    return tax_profile_lapsed(row.status, row.fiscal_year, row.tax_expires_on, today=today)


_E_ORGANIZATION, _E_LOCATION, _E_PROGRAM, _E_STATUS, _E_YEAR, _E_TAX_EXPIRES, _E_PROGRAM_STATUS = (
    ENROLLMENT_ROWS.get(name)
    for name in (
        "organization_id",
        "location_id",
        "program_id",
        "status",
        "fiscal_year",
        "tax_expires_on",
        "program__status",
    )
)


def _shown_status(run: Run) -> Callable[[Any], str]:
    """The status an enrollment row shows this caller (rule 8, `domain.shown_status`), with the
    caller's coverage per organization; columns read by position (this runs for every row)."""
    principal = run.context.principal
    coverages: dict[int, Coverage] = {}
    today = run.context.today()
    active = ProgramStatus.ACTIVE

    def shown(row: Any) -> str:
        organization_id = _E_ORGANIZATION(row)
        coverage = coverages.get(organization_id)
        if coverage is None:
            coverage = coverages[organization_id] = principal.coverage(
                Action.READ_ENROLLMENT_DETAIL, organization_id
            )
        status = _E_STATUS(row)
        lapsed = tax_profile_lapsed(status, _E_YEAR(row), _E_TAX_EXPIRES(row), today=today)
        return shown_status(
            status,
            program_active=_E_PROGRAM_STATUS(row) is active,
            sees_detail=coverage.everything
            or (bool(coverage.grants) and coverage.covers(_E_LOCATION(row), _E_PROGRAM(row))),
            tax_profile_valid=not lapsed,
        )._value_

    return shown


async def enrollment_status(run: Run, asked: Field, objs: list[Obj]) -> None:
    shown, key = _shown_status(run), asked.key
    for obj in objs:
        obj.out[key] = shown(obj.row)


def _shown_in_this_run(row: Any) -> str:
    # The run's own `_shown_status` (its caller and day), made at its first row.
    run = current_run()
    return run.memo(_shown_status, lambda: _shown_status(run))(row)


@lasting
def _status_local(run: Run, asked: Field) -> Local | None:
    return _shown_in_this_run


@lasting
def _program_local(run: Run, asked: Field) -> Local | None:
    """Each program's dict is built once per run and shared by that run's enrollments (nothing in
    a builder can fail, so no path of an error tells them apart); never by two runs."""
    build = run.builder(returned_type(asked), asked.selection)
    if build is None:
        return None
    key = (_program_local, id(build))

    def program(row: Any) -> dict[str, Any]:
        built: dict[int, dict[str, Any]] = current_run().memo(key, dict)
        program_id = _E_PROGRAM(row)
        found = built.get(program_id)
        if found is None:
            found = built[program_id] = build(_program_of(row))
        return found

    return program


async def enrollment_action_required_reason(run: Run, asked: Field, objs: list[Obj]) -> None:
    today = run.context.today()
    for obj in allowed(run, asked, objs, Action.READ_ENROLLMENT_DETAIL, enrollment_scope):
        row = obj.row
        obj.out[asked.key] = shown_reason(
            row.status,
            row.action_required_reason,
            payment_profile_id=row.payment_profile_id,
            tax_profile_valid=not _lapsed(row, today),
        )


# --- IncentiveProgram -------------------------------------------------------------------------------


async def program_criteria(run: Run, asked: Field, objs: list[Obj]) -> None:
    found = await entities.criteria_by_program(run.session, [obj.row.id for obj in objs])
    for obj in objs:
        obj.out[asked.key] = [kind.value for kind in found[obj.row.id]]


async def program_open_to_all(run: Run, asked: Field, objs: list[Obj]) -> None:
    found = await entities.criteria_by_program(run.session, [obj.row.id for obj in objs])
    for obj in objs:
        obj.out[asked.key] = not found[obj.row.id]


# --- PaymentProfile ---------------------------------------------------------------------------------


async def bank_account_last4(run: Run, asked: Field, objs: list[Obj]) -> None:
    for obj in allowed(run, asked, objs, Action.READ_BANK_DETAILS, lambda row: Scope(row.organization_id)):
        obj.out[asked.key] = obj.row.bank_account_last4


def _date(value: Any) -> str | None:
    # The same text as the general executor's `Date` (the differential tests compare them).
    return None if value is None else serialize_date(value)


def _read(name: str) -> Callable[[Any], Any]:
    return attrgetter(name)


def _id(kind: str, rows: Rows | None = None) -> Callable[[Any], Any]:
    key = attrgetter("id") if rows is None else rows.get("id")
    return lambda row: to_global_id(kind, key(row))


def _value(get: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # An enum member's value: `_value_` is its plain attribute (`value` goes through a descriptor,
    # several times slower, for every row).
    return lambda row: get(row)._value_


def _iso(get: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda row: _date(get(row))


# Fields read off the object's row (or the caller) alone: a loop over rows, or a getter per row.
SCALARS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("Viewer", "objectId"): _read("object_id"),
    ("Viewer", "tenantId"): _read("tenant_id"),
    ("Viewer", "displayName"): _read("display_name"),
    ("Viewer", "isOperator"): _read("is_operator"),
    ("Viewer", "isGlobalAdmin"): _read("is_global_admin"),
    ("Viewer", "roles"): _roles,
    ("Organization", "id"): _id("Organization", ORGANIZATIONS),
    ("Organization", "globalPartnerId"): ORGANIZATIONS.get("global_partner_id"),
    ("Organization", "legalName"): ORGANIZATIONS.get("legal_name"),
    ("Organization", "country"): ORGANIZATIONS.get("country"),
    ("Organization", "migrationCompleted"): ORGANIZATIONS.get("migration_completed"),
    ("Organization", "hasSolutionsPartnerDesignation"): ORGANIZATIONS.get("solutions_partner_designated"),
    ("Agreement", "kind"): _read("kind.value"),
    ("Agreement", "active"): _read("active"),
    ("Location", "id"): _id("Location", LOCATIONS),
    ("Location", "partnerId"): LOCATIONS.get("partner_id"),
    ("Location", "name"): LOCATIONS.get("name"),
    ("Location", "country"): LOCATIONS.get("country"),
    ("Location", "partnerType"): _value(LOCATIONS.get("partner_type")),
    ("Enrollment", "id"): _id("Enrollment", ENROLLMENT_ROWS),
    ("Enrollment", "fiscalYear"): ENROLLMENT_ROWS.get("fiscal_year"),
    ("Enrollment", "earningsStartDate"): _iso(ENROLLMENT_ROWS.get("earnings_start_date")),
    ("IncentiveProgram", "id"): _id("IncentiveProgram", PROGRAMS),
    ("IncentiveProgram", "code"): PROGRAMS.get("code"),
    ("IncentiveProgram", "name"): PROGRAMS.get("name"),
    ("IncentiveProgram", "status"): _value(PROGRAMS.get("status")),
    ("PaymentProfile", "id"): _id("PaymentProfile"),
    ("PaymentProfile", "name"): _read("name"),
    ("PaymentProfile", "currency"): _read("currency"),
    ("TaxProfile", "id"): _id("TaxProfile"),
    ("TaxProfile", "taxId"): _read("tax_id"),
    ("TaxProfile", "country"): _read("country"),
    ("TaxProfile", "expiresOn"): lambda row: _date(row.expires_on),
}


def handlers() -> dict[tuple[str, str], Handler]:
    """Every (type, field) the planned read answers."""
    return {
        **connections.handlers(CONNECTIONS),
        **{key: scalar(get) for key, get in SCALARS.items()},
        ("Query", "viewer"): query_viewer,
        ("Query", "currentFiscalYear"): query_current_fiscal_year,
        ("Query", "programs"): query_programs,
        ("Query", "organizations"): query_organizations,
        ("Query", "enrollments"): query_enrollments,
        ("Query", "node"): query_node,
        ("Query", "nodes"): query_nodes,
        ("Viewer", "organization"): viewer_organization,
        ("Organization", "agreements"): organization_agreements,
        ("Organization", "locations"): organization_locations,
        ("Organization", "paymentProfiles"): organization_payment_profiles,
        ("Location", "organization"): to_one(ORGANIZATIONS, lambda row: row.organization_id),
        ("Location", "enrollments"): location_enrollments,
        ("Location", "taxProfile"): location_tax_profile,
        ("Enrollment", "program"): enrollment_program,
        ("Enrollment", "location"): enrollment_location,
        ("Enrollment", "status"): enrollment_status,
        ("Enrollment", "paymentProfile"): to_one(PAYMENT_PROFILES, lambda row: row.payment_profile_id),
        ("Enrollment", "actionRequiredReason"): enrollment_action_required_reason,
        ("IncentiveProgram", "openToAllPartners"): program_open_to_all,
        ("IncentiveProgram", "criteria"): program_criteria,
        ("PaymentProfile", "bankAccountLast4"): bank_account_last4,
    }


def _getter(get: Callable[[Any], Any]) -> LocalFactory:
    return lasting(lambda run, asked: get)


def locals_() -> dict[tuple[str, str], LocalFactory]:
    """The fields `Run.builder` may read one row at a time: no SQL and no check that can fail."""
    return {
        **connections.locals_(CONNECTIONS),
        **{key: _getter(get) for key, get in SCALARS.items()},
        ("Enrollment", "status"): _status_local,
        ("Enrollment", "program"): _program_local,
        ("Enrollment", "location"): _location_local,
    }


def read_model() -> ReadModel:
    return ReadModel(handlers(), locals_())
