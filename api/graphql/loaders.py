"""Per-request DataLoaders: every batch opens its own short-lived session.

Concurrent resolvers never share an `AsyncSession`; each batch runs a fixed number of
statements whatever the number of keys, so nested connections cost the same for 5 rows or 100.
Nested lists are keyed by (parent id, arguments); loaders of pages prime the by-id loaders.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from domain import eligibility as rules
from domain.access import Coverage, Grant
from domain.model import (
    Agreement,
    AuditEvent,
    Base,
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
from domain.queries import enrollments, entities, people
from domain.queries.pages import Page, PageArgs, counts_by_parent, pages_by_parent
from domain.vocabulary import CriterionKind

M = TypeVar("M", bound=Base)
K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

ByParent = Callable[[AsyncSession, list[int], R], Awaitable[dict[int, V]]]


class Loader(DataLoader[K, T]):
    """A DataLoader whose waiters cannot cancel the load they share.

    When an error nulls part of a result, graphql-core cancels that part's pending fields; a field
    waiting on a cached load would cancel the load itself, and with it every other field waiting for
    the same key. Each waiter gets its own shield instead.
    """

    def load(self, key: K) -> Awaitable[T]:
        return asyncio.shield(super().load(key))


@dataclass(frozen=True)
class EnrollmentFilter:
    """Which of a location's enrollments a list shows: the caller's coverage, one fiscal year or all."""

    coverage: Coverage
    fiscal_year: int | None = None


class Loaders:
    """A fresh set per request: `await info.context.loaders.location.load(7)`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._built = False

    def __getattr__(self, name: str) -> Any:
        """The loaders are made on first use: a request the planned read answers needs none."""
        if name.startswith("_") or self._built:
            raise AttributeError(name)
        self._build()
        return getattr(self, name)

    def _build(self) -> None:
        self._built = True
        self.organization = self._by_id(Organization)
        self.location = self._by_id(Location)
        self.user = self._by_id(User)
        self.role_assignment = self._by_id(RoleAssignment)
        self.program = self._by_id(Program)
        self.invitation = self._by_id(Invitation)
        self.enrollment = self._by_id(Enrollment)
        self.payment_profile = self._by_id(PaymentProfile)
        self.tax_profile = self._by_id(TaxProfile)
        self.organization_id_by_tenant: DataLoader[str, int | None] = Loader(self._organization_ids)
        self.display_name: DataLoader[tuple[str, str], str | None] = Loader(self._display_names)
        self.criteria: DataLoader[int, list[CriterionKind]] = self._keyed(entities.criteria_by_program)
        self.agreements: DataLoader[int, list[Agreement]] = self._keyed(entities.agreements_by_organization)
        self.payment_profiles: DataLoader[int, list[PaymentProfile]] = self._keyed(
            entities.payment_profiles_by_organization
        )
        self.admin_contacts: DataLoader[int, list[people.Contact]] = self._keyed(
            people.admin_contacts_by_organization
        )
        self.current_tax_profile: DataLoader[int, TaxProfile | None] = self._keyed(
            entities.current_tax_profiles
        )
        self.incentive_admins: DataLoader[int, list[User]] = self._keyed(people.incentive_admins_by_location)
        self.assignment_grant: DataLoader[int, Grant | None] = Loader(self._assignment_grants)
        self.assignments_of_user: DataLoader[int, list[RoleAssignment]] = self._keyed(
            people.assignments_of_users
        )
        self.eligibility: DataLoader[tuple[int, int], rules.Eligibility | None] = Loader(self._eligibility)
        self.locations_page = self._pages(self._location_pages, self.location)
        self.locations_count = self._counts(Location.organization_id)
        self.assignments_page = self._pages(self._assignment_pages, self.role_assignment)
        self.assignments_count = self._counts(RoleAssignment.organization_id)
        self.audit_page = self._pages(self._audit_pages, None)
        self.audit_count = self._counts(AuditEvent.organization_id)
        self.enrollments_page = self._pages(self._enrollment_pages, self.enrollment)
        self.enrollments_count: DataLoader[tuple[int, EnrollmentFilter], int] = self._grouped(
            self._enrollment_counts
        )

    async def run(self, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One top-level query (not per row) in its own session: `await loaders.run(fn)`."""
        async with self._sessions() as session:
            return await query(session)

    def _by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        async def load(ids: list[int]) -> list[M | None]:
            async with self._sessions() as session:
                found = await entities.by_ids(session, model, ids)
            return [found.get(key) for key in ids]

        return Loader(load)

    def _keyed(
        self, fetch: Callable[[AsyncSession, Iterable[int]], Awaitable[dict[int, V]]]
    ) -> DataLoader[int, V]:
        async def load(ids: list[int]) -> list[V]:
            async with self._sessions() as session:
                found = await fetch(session, ids)
            return [found[key] if key in found else _missing(found) for key in ids]

        return Loader(load)

    def _grouped(self, fetch: ByParent[R, V]) -> DataLoader[tuple[int, R], V]:
        """Keys (parent, args): one fetch per distinct args, for all parents sharing them."""

        async def load(keys: list[tuple[int, R]]) -> list[V]:
            groups: dict[R, list[int]] = defaultdict(list)
            for parent, args in keys:
                groups[args].append(parent)
            results: dict[tuple[int, R], V] = {}
            async with self._sessions() as session:
                for args, parents in groups.items():
                    found = await fetch(session, parents, args)
                    results.update({(parent, args): found[parent] for parent in parents})
            return [results[key] for key in keys]

        return Loader(load)

    def _pages(
        self, fetch: ByParent[R, Page[M]], by_id: DataLoader[int, M | None] | None
    ) -> DataLoader[tuple[int, R], Page[M]]:
        async def fetch_and_prime(session: AsyncSession, parents: list[int], args: R) -> dict[int, Page[M]]:
            pages = await fetch(session, parents, args)
            if by_id is not None:
                by_id.prime_many({item.id: item for page in pages.values() for item in page.items})  # type: ignore[attr-defined]
            return pages

        return self._grouped(fetch_and_prime)

    def _counts(self, parent: Any) -> DataLoader[int, int]:
        async def fetch(session: AsyncSession, ids: Iterable[int]) -> dict[int, int]:
            return await counts_by_parent(session, parent, ids)

        return self._keyed(fetch)

    async def _organization_ids(self, tenant_ids: list[str]) -> list[int | None]:
        async with self._sessions() as session:
            found = await entities.organization_ids_by_tenant(session, tenant_ids)
        return [found.get(tenant_id) for tenant_id in tenant_ids]

    async def _display_names(self, keys: list[tuple[str, str]]) -> list[str | None]:
        async with self._sessions() as session:
            found = await people.display_names(session, keys)
        return [found.get(key) for key in keys]

    async def _assignment_grants(self, ids: list[int]) -> list[Grant | None]:
        async with self._sessions() as session:
            found = await people.assignments_where(session, RoleAssignment.id.in_(sorted(set(ids))))
        return [found[key].grant if key in found else None for key in ids]

    async def _eligibility(self, keys: list[tuple[int, int]]) -> list[rules.Eligibility | None]:
        found = await self.location.load_many(sorted({location for location, _ in keys}))
        async with self._sessions() as session:
            standings = await entities.standings(session, (location for location in found if location))
            criteria = await entities.criteria_by_program(session, {program for _, program in keys})
        programs = await self.program.load_many(sorted({program for _, program in keys}))
        known = {program.id for program in programs if program is not None}
        return [
            rules.evaluate(criteria[program], standings[location])
            if location in standings and program in known
            else None
            for location, program in keys
        ]

    @staticmethod
    async def _location_pages(
        session: AsyncSession, ids: list[int], args: PageArgs
    ) -> dict[int, Page[Location]]:
        return await pages_by_parent(session, Location, Location.organization_id, ids, args)

    @staticmethod
    async def _assignment_pages(
        session: AsyncSession, ids: list[int], args: PageArgs
    ) -> dict[int, Page[RoleAssignment]]:
        return await pages_by_parent(session, RoleAssignment, RoleAssignment.organization_id, ids, args)

    @staticmethod
    async def _audit_pages(
        session: AsyncSession, ids: list[int], args: PageArgs
    ) -> dict[int, Page[AuditEvent]]:
        return await pages_by_parent(session, AuditEvent, AuditEvent.organization_id, ids, args)

    @staticmethod
    async def _enrollment_pages(
        session: AsyncSession, ids: list[int], args: tuple[PageArgs, EnrollmentFilter]
    ) -> dict[int, Page[Enrollment]]:
        page, which = args
        return await enrollments.enrollment_pages_by_location(
            session, ids, page, coverage=which.coverage, fiscal_year=which.fiscal_year
        )

    @staticmethod
    async def _enrollment_counts(
        session: AsyncSession, ids: list[int], which: EnrollmentFilter
    ) -> dict[int, int]:
        return await enrollments.enrollment_counts_by_location(
            session, ids, coverage=which.coverage, fiscal_year=which.fiscal_year
        )


def _missing(found: dict[int, Any]) -> Any:
    # Keyed queries return every asked key; a gap is a bug in the query, not a missing row.
    raise KeyError(f"batch answered {len(found)} keys but not all that were asked")
