"""Keyset pages backward (Relay's `last`/`before`) on SQLite and PostgreSQL: the last rows before a
key, in the list's order, with whether more precede; N parents' pages in one statement."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Location
from domain.queries.pages import PageArgs, Rows, row_page, row_pages_by_parent
from tests.integration.statements import counted_statements
from tests.support.world import World

LOCATIONS = Rows(Location.__table__)


async def five_locations(world: World) -> tuple[int, list[int]]:
    org = await world.organization()
    ids = [await world.location(org, name=f"Site {n}") for n in range(5)]
    return org.id, ids


async def both_pages(
    sessions: async_sessionmaker[AsyncSession], org_id: int, args: PageArgs
) -> tuple[list[int], bool, bool]:
    """The page of the organization's locations: (ids, has_previous, has_next)."""
    async with sessions() as session:
        # the world holds this organization's locations only, so the unfiltered rows are its page
        rows = await row_page(session, LOCATIONS, args)
    return [row.id for row in rows.items], rows.has_previous, rows.has_next


async def test_last_is_the_end_of_the_list_in_its_order(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org_id, ids = await five_locations(world)

    assert await both_pages(sessions, org_id, PageArgs(2, backward=True)) == (ids[3:], True, False)
    assert await both_pages(sessions, org_id, PageArgs(5, backward=True)) == (ids, False, False)
    assert await both_pages(sessions, org_id, PageArgs(6, backward=True)) == (ids, False, False)


async def test_before_bounds_a_backward_page_and_after_bounds_it_too(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org_id, ids = await five_locations(world)

    assert await both_pages(sessions, org_id, PageArgs(2, before=ids[3], backward=True)) == (
        ids[1:3],
        True,
        False,
    )
    assert await both_pages(sessions, org_id, PageArgs(3, before=ids[3], backward=True)) == (
        ids[0:3],
        False,
        False,
    )
    assert await both_pages(sessions, org_id, PageArgs(1, before=ids[0], backward=True)) == ([], False, False)
    # between two keys: `after` is a bound, not the start of a forward page
    assert await both_pages(sessions, org_id, PageArgs(5, after=ids[0], before=ids[4], backward=True)) == (
        ids[1:4],
        False,
        False,
    )
    assert await both_pages(sessions, org_id, PageArgs(1, after=ids[0], before=ids[4], backward=True)) == (
        ids[3:4],
        True,
        False,
    )
    # forward with `before`: the first rows, stopping short of `before`
    assert await both_pages(sessions, org_id, PageArgs(2, before=ids[3])) == (ids[0:2], False, True)
    assert await both_pages(sessions, org_id, PageArgs(2, after=ids[0], before=ids[3])) == (
        ids[1:3],
        False,
        False,
    )


async def test_backward_pages_of_a_descending_list_are_newest_first(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org_id, ids = await five_locations(world)
    newest_first = ids[::-1]

    last_two = PageArgs(2, descending=True, backward=True)
    assert await both_pages(sessions, org_id, last_two) == (newest_first[3:], True, False)
    before = PageArgs(2, descending=True, before=newest_first[3], backward=True)
    assert await both_pages(sessions, org_id, before) == (newest_first[1:3], True, False)
    forward = PageArgs(2, descending=True, before=newest_first[2])
    assert await both_pages(sessions, org_id, forward) == (newest_first[0:2], False, False)


async def test_backward_pages_of_many_parents_take_one_statement(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first_org, first_ids = await five_locations(world)
    second_org = await world.organization()
    second_ids = [await world.location(second_org, name=f"Other {n}") for n in range(2)]
    parents = [first_org, second_org.id, 987654]
    column = LOCATIONS.table.c.organization_id

    for args, expected in [
        (PageArgs(2, backward=True), {first_org: (first_ids[3:], True), second_org.id: (second_ids, False)}),
        (
            PageArgs(2, before=first_ids[3], backward=True),
            {first_org: (first_ids[1:3], True), second_org.id: ([], False)},
        ),
    ]:
        async with sessions() as session:
            with counted_statements(sessions) as statements:
                rows = await row_pages_by_parent(session, LOCATIONS, column, parents, args)
        assert statements == ["SELECT"]  # one, whatever the number of parents
        for pages in (rows,):
            found = {
                key: ([item.id for item in page.items], page.has_previous) for key, page in pages.items()
            }
            assert found == {**expected, 987654: ([], False)}
            assert not any(page.has_next for page in pages.values())
