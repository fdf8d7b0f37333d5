"""The three operations: what incentives and the floor are sent, PostGraphile's equivalents, and
the answers normalised so that the three servers can be compared.

Each is measured twice: by its full text (`dashboard`, `node`, `programs`) and by the id of the
trusted document (`... by id`: `documentId`, CONTRACT 6.5), incentives serving the manifest
`trusted_environment` writes. The floor and PostGraphile get the same bodies either way (the floor
dispatches on `operationName`, and ignores `documentId`).

The floor and incentives get the same bodies (the floor dispatches on `operationName`).
PostGraphile's schema is derived from the tables, so it returns stored statuses: its queries also
read each program's status and each location's newest tax profile, and `shown_status` applies the
projection a Global admin sees (the same rule as `Enrollment.status`, written out again here).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from api.trusted.manifest import document_id, dump
from domain.fiscal import fiscal_year_of

Json = dict[str, Any]
IN_PROGRESS = frozenset({"ACTION_REQUIRED", "VALIDATING_ENROLLMENT"})

DASHBOARD = """query Dashboard { viewer { organization { locations(first: 50) { edges { node {
  partnerId name enrollments(first: 5) { edges { node { status fiscalYear program { code name } } } }
} } } } } }"""
NODE = """query EnrollmentNode($id: ID!) { node(id: $id) { ... on Enrollment {
  id status fiscalYear program { code name } location { partnerId name }
} } }"""
PROGRAMS = "query Programs { programs(first: 20) { edges { node { code name status } } } }"

_CURRENT_TAX = "taxProfilesByLocationId(first: 1, orderBy: PRIMARY_KEY_DESC) { nodes { expiresOn } }"
PG_DASHBOARD = f"""query Dashboard($organizationId: BigInt!) {{ organizationById(id: $organizationId) {{
  locationsByOrganizationId(first: 50, orderBy: PRIMARY_KEY_ASC) {{ edges {{ node {{
    partnerId name {_CURRENT_TAX}
    enrollmentsByLocationId(first: 5, orderBy: PRIMARY_KEY_ASC) {{ edges {{ node {{
      status fiscalYear programByProgramId {{ code name status }}
    }} }} }}
  }} }} }}
}} }}"""
PG_NODE = f"""query EnrollmentNode($id: BigInt!) {{ enrollmentById(id: $id) {{
  id status fiscalYear programByProgramId {{ code name status }}
  locationByLocationId {{ partnerId name {_CURRENT_TAX} }}
}} }}"""
PG_PROGRAMS = """query Programs { allPrograms(first: 20, orderBy: PRIMARY_KEY_ASC) {
  edges { node { code name status } }
} }"""


@dataclass(frozen=True)
class Operation:
    """One measured operation: its name, and the bodies each kind of server is sent (one or more,
    sent in turn; `node` cycles through the organization's enrollments)."""

    name: str
    ours: Sequence[Json]
    postgraphile: Sequence[Json]


def global_id(kind: str, key: int) -> str:
    """incentives' opaque ids: base64url of `Kind:key`, unpadded."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


BY_ID = " by id"


def _body(query: str, name: str, variables: Json | None = None) -> Json:
    return {"query": query, "operationName": name, "variables": variables or {}}


def _by_id(operation: Operation) -> Operation:
    """The operation with its document named by id (`documentId`) instead of sent whole."""
    ours = [
        {"documentId": document_id(body["query"]), **{k: v for k, v in body.items() if k != "query"}}
        for body in operation.ours
    ]
    return Operation(operation.name + BY_ID, ours, operation.postgraphile)


def trusted_environment(directory: Path) -> dict[str, str]:
    """The manifest of the three documents, written in `directory`, for incentives' settings."""
    path = directory / "trusted-documents.json"
    dump({document_id(text): text for text in (DASHBOARD, NODE, PROGRAMS)}, path)
    return {"INCENTIVES_TRUSTED_DOCUMENTS_FILE": str(path)}


def operations(organization_id: int, enrollment_ids: Sequence[int], *, by_id: bool = True) -> list[Operation]:
    """The dashboard of `organization_id`, `node` over `enrollment_ids`, and `programs`; each by its
    text, then (`by_id`) by id."""
    by_text = [
        Operation(
            "dashboard",
            [_body(DASHBOARD, "Dashboard")],
            [_body(PG_DASHBOARD, "Dashboard", {"organizationId": str(organization_id)})],
        ),
        Operation(
            "node",
            [_body(NODE, "EnrollmentNode", {"id": global_id("Enrollment", key)}) for key in enrollment_ids],
            [_body(PG_NODE, "EnrollmentNode", {"id": str(key)}) for key in enrollment_ids],
        ),
        Operation("programs", [_body(PROGRAMS, "Programs")], [_body(PG_PROGRAMS, "Programs")]),
    ]
    return by_text + [_by_id(operation) for operation in by_text if by_id]


def shown_status(
    status: str, fiscal_year: int, program_status: str, tax_expires: str | None, today: date
) -> str:
    """What a Global admin (no Incentives admin assignment) sees of a stored status."""
    if program_status == "DISCONTINUED":
        return "DISCONTINUED"
    lapsed = (
        status == "ENROLLED"
        and fiscal_year >= fiscal_year_of(today)
        and tax_expires is not None
        and date.fromisoformat(tax_expires) <= today
    )
    return "ENROLLING" if status in IN_PROGRESS or lapsed else status


class AnswerError(AssertionError):
    """A server answered with GraphQL errors, or without the data asked for."""


def data_of(answer: Json) -> Json:
    if answer.get("errors") or not isinstance(answer.get("data"), dict):
        raise AnswerError(f"not a clean answer: {str(answer)[:500]}")
    data: Json = answer["data"]
    return data


def _program(node: Json) -> Json:
    return {"code": node["code"], "name": node["name"]}


def _edges(connection: Json) -> list[Json]:
    return [edge["node"] for edge in connection["edges"]]


def ours_dashboard(answer: Json) -> Any:
    return [
        {
            "partnerId": location["partnerId"],
            "name": location["name"],
            "enrollments": [
                {"status": e["status"], "fiscalYear": e["fiscalYear"], "program": _program(e["program"])}
                for e in _edges(location["enrollments"])
            ],
        }
        for location in _edges(data_of(answer)["viewer"]["organization"]["locations"])
    ]


def ours_node(answer: Json) -> Any:
    node = data_of(answer)["node"]
    if node is None:
        return None
    location = {"partnerId": node["location"]["partnerId"], "name": node["location"]["name"]}
    program = _program(node["program"])
    return {**_enrollment(node["id"], node["status"], node["fiscalYear"], program), "location": location}


def _enrollment(id: str, status: str, fiscal_year: int, program: Json) -> Json:
    return {"id": id, "status": status, "fiscalYear": fiscal_year, "program": program}


def ours_programs(answer: Json) -> Any:
    return [
        {"code": p["code"], "name": p["name"], "status": p["status"]}
        for p in _edges(data_of(answer)["programs"])
    ]


def _tax_expires(location: Json) -> str | None:
    nodes = location["taxProfilesByLocationId"]["nodes"]
    return str(nodes[0]["expiresOn"]) if nodes else None


def _shown(enrollment: Json, tax_expires: str | None, today: date) -> str:
    program = enrollment["programByProgramId"]
    return shown_status(enrollment["status"], enrollment["fiscalYear"], program["status"], tax_expires, today)


def postgraphile_dashboard(answer: Json, today: date) -> Any:
    locations = []
    for location in _edges(data_of(answer)["organizationById"]["locationsByOrganizationId"]):
        tax = _tax_expires(location)
        enrollments = [
            {
                "status": _shown(e, tax, today),
                "fiscalYear": e["fiscalYear"],
                "program": _program(e["programByProgramId"]),
            }
            for e in _edges(location["enrollmentsByLocationId"])
        ]
        locations.append(
            {"partnerId": location["partnerId"], "name": location["name"], "enrollments": enrollments}
        )
    return locations


def postgraphile_node(answer: Json, today: date) -> Any:
    node = data_of(answer)["enrollmentById"]
    if node is None:
        return None
    location = node["locationByLocationId"]
    status = _shown(node, _tax_expires(location), today)
    program = _program(node["programByProgramId"])
    enrollment = _enrollment(global_id("Enrollment", int(node["id"])), status, node["fiscalYear"], program)
    return {**enrollment, "location": {"partnerId": location["partnerId"], "name": location["name"]}}


def postgraphile_programs(answer: Json, today: date) -> Any:
    return [
        {"code": p["code"], "name": p["name"], "status": p["status"]}
        for p in _edges(data_of(answer)["allPrograms"])
    ]


_OURS: dict[str, Callable[[Json], Any]] = {
    "dashboard": ours_dashboard,
    "node": ours_node,
    "programs": ours_programs,
}
_POSTGRAPHILE: dict[str, Callable[[Json, date], Any]] = {
    "dashboard": postgraphile_dashboard,
    "node": postgraphile_node,
    "programs": postgraphile_programs,
}
# By operation name: the same answers by id as by text.
OURS = {**_OURS, **{name + BY_ID: normalise for name, normalise in _OURS.items()}}
POSTGRAPHILE = {**_POSTGRAPHILE, **{name + BY_ID: normalise for name, normalise in _POSTGRAPHILE.items()}}
