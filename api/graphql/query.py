"""The root query type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from api.graphql.directory import DIRECTORY_USERS, DirectoryUser, directory_users
from api.graphql.nodes import resolve_node, resolve_nodes
from api.graphql.pagination import DEFAULT_PAGE_SIZE, After, Before, First, Last, given, paging
from api.graphql.types import Connection, Enrollment, IncentiveProgram, Info, Node, Organization, Viewer
from api.graphql.types.base import connection, field, field_of, require
from api.graphql.types.mail import MAIL_QUEUE, MailQueue, mail_queue
from domain import model as models
from domain.access import Action
from domain.fiscal import fiscal_year_of
from domain.queries import enrollments
from domain.queries.pages import PageArgs, count_of, page_of
from domain.vocabulary import EnrollmentStatus

OPERATOR_ONLY = "Null (with a FORBIDDEN error at this path) for anyone else."


@strawberry.type(
    description="What a signed-in caller may read; a field the caller may not read is null, with FORBIDDEN."
)
class Query:
    @field("The signed-in caller.", None)
    def viewer(self, info: Info) -> Viewer:
        return Viewer(principal=info.context.principal)

    @field("The current fiscal year: FY N runs July 1 of N-1 to June 30 of N.", None)
    def current_fiscal_year(self, info: Info) -> int:
        return fiscal_year_of(info.context.clock.today())

    @field(f"Every organization, oldest first. {OPERATOR_ONLY}", Action.OPERATE)
    async def organizations(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> Connection[Organization] | None:
        require(info, Action.OPERATE)
        args = paging(info, first, after, last, before)
        loader = info.context.loaders.organization
        return await _every(info, models.Organization, loader, Organization.from_model, args)

    @field(f"Every enrollment, optionally of one status, oldest first. {OPERATOR_ONLY}", Action.OPERATE)
    async def enrollments(
        self,
        info: Info,
        status: Annotated[
            EnrollmentStatus | None,
            strawberry.argument(description="Only those of this status; left out: all."),
        ] = strawberry.UNSET,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> Connection[Enrollment] | None:
        require(info, Action.OPERATE)
        args = paging(info, first, after, last, before)
        wanted = given(status)
        # ACTION_REQUIRED includes ENROLLED ones whose tax profile lapsed, as `status` shows them.
        today = info.context.clock.today()
        loaders = info.context.loaders
        page = await loaders.run(
            lambda session: enrollments.all_enrollments_page(session, args, wanted, today)
        )
        loaders.enrollment.prime_many({item.id: item for item in page.items})
        return connection(
            page,
            lambda item: item.id,
            Enrollment.from_model,
            lambda: loaders.run(lambda session: enrollments.all_enrollments_count(session, wanted, today)),
        )

    @field("Every incentive program, oldest first.", None)
    async def programs(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = strawberry.UNSET,
        last: Last = strawberry.UNSET,
        before: Before = strawberry.UNSET,
    ) -> Connection[IncentiveProgram]:
        args = paging(info, first, after, last, before)
        loader = info.context.loaders.program
        return await _every(info, models.Program, loader, IncentiveProgram.from_model, args)

    mail_queue: MailQueue | None = field_of(mail_queue, MAIL_QUEUE, Action.OPERATE)
    directory_users: list[DirectoryUser] | None = field_of(
        directory_users, DIRECTORY_USERS, Action.MANAGE_ROLES
    )

    @field("The object with this ID; null when there is none the caller may see.", None)
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global ID.")]
    ) -> Node | None:
        return await resolve_node(info, id)

    @field("The objects with these IDs (at most 100), each null like `node`.", None)
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global IDs, at most 100.")],
    ) -> list[Node | None]:
        return await resolve_nodes(info, ids)


M = TypeVar("M", models.Organization, models.Program)
N = TypeVar("N")


async def _every(
    info: Info,
    model: type[M],
    loader: DataLoader[int, M | None],
    wrap: Callable[[M], N],
    args: PageArgs,
) -> Connection[N]:
    """A page of every `model` row, oldest first; the rows also fill `loader` for nested fields."""
    loaders = info.context.loaders
    page = await loaders.run(lambda session: page_of(session, model, args))
    loader.prime_many({item.id: item for item in page.items})

    async def count() -> int:
        return await loaders.run(lambda session: count_of(session, model))

    return connection(page, lambda item: item.id, wrap, count)
