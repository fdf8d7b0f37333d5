"""The root query type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from api.graphql import nodes as by_global_id
from api.graphql.declared import Argument, Asked, Guard, Reading, Row
from api.graphql.directory import DirectoryUser, directory_users
from api.graphql.fields import batch, for_caller, paged
from api.graphql.types import Connection, Enrollment, IncentiveProgram, Node, Organization, Viewer
from api.graphql.types.base import rows_of
from api.graphql.types.mail import MAIL_QUEUE, MailQueue, mail_queue
from domain import model as models
from domain.access import Action
from domain.fiscal import fiscal_year_of
from domain.queries import enrollments
from domain.queries.pages import count_of, row_page
from domain.vocabulary import EnrollmentStatus

OPERATOR_ONLY = "Null (with a FORBIDDEN error at this path) for anyone else."
OPERATORS = Guard(Action.OPERATE)


def _every(type_name: str, model: type[models.Base]) -> tuple[Any, Any]:
    """A page of every row of a table, oldest first, and how many there are."""

    async def pages(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[Any]:
        assert asked.page is not None
        page = await row_page(reading.source, rows_of(type_name), asked.page)
        return [page for _ in roots]

    async def counts(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[int]:
        total = await count_of(reading.session, model)
        return [total for _ in roots]

    return pages, counts


async def _enrollment_pages(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[Any]:
    # ACTION_REQUIRED includes ENROLLED ones whose tax profile lapsed, as `status` shows them.
    assert asked.page is not None
    today = reading.context.today()
    page = await enrollments.all_enrollment_rows_page(
        reading.source, rows_of("Enrollment"), asked.page, asked.args.get("status"), today
    )
    return [page for _ in roots]


async def _enrollment_counts(reading: Reading, roots: Sequence[Row], asked: Asked) -> list[int]:
    today = reading.context.today()
    total = await enrollments.all_enrollments_count(reading.session, asked.args.get("status"), today)
    return [total for _ in roots]


STATUS = Argument(
    Annotated[
        EnrollmentStatus | None, strawberry.argument(description="Only those of this status; left out: all.")
    ],
    strawberry.UNSET,
    leads=True,
)
ID = Argument(Annotated[strawberry.ID, strawberry.argument(description="A global ID.")])
IDS = Argument(Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs, at most 100.")])


@strawberry.type(
    description="What a signed-in caller may read; a field the caller may not read is null, with FORBIDDEN."
)
class Query:
    mail_queue: MailQueue | None = batch(mail_queue, MAIL_QUEUE, guard=OPERATORS)
    directory_users: list[DirectoryUser] | None = directory_users
    viewer: Viewer = for_caller(
        lambda context: lambda root: context.principal, "The signed-in caller.", signed_in=True
    )
    current_fiscal_year: int = for_caller(
        lambda context: lambda root: fiscal_year_of(context.today()),
        "The current fiscal year: FY N runs July 1 of N-1 to June 30 of N.",
        signed_in=True,
    )
    organizations: Connection[Organization] | None = paged(
        *_every("Organization", models.Organization),
        f"Every organization, oldest first. {OPERATOR_ONLY}",
        guard=OPERATORS,
    )
    enrollments: Connection[Enrollment] | None = paged(
        _enrollment_pages,
        _enrollment_counts,
        f"Every enrollment, optionally of one status, oldest first. {OPERATOR_ONLY}",
        guard=OPERATORS,
        arguments={"status": STATUS},
    )
    programs: Connection[IncentiveProgram] = paged(
        *_every("IncentiveProgram", models.Program), "Every incentive program, oldest first.", signed_in=True
    )
    node: Node | None = batch(
        by_global_id.node,
        "The object with this ID; null when there is none the caller may see.",
        signed_in=True,
        arguments={"id": ID},
    )
    nodes: list[Node | None] = batch(
        by_global_id.nodes,
        "The objects with these IDs (at most 100), each null like `node`.",
        signed_in=True,
        arguments={"ids": IDS},
    )
