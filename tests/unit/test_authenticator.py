"""The Authenticator joins the token's identity with the caller's stored record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from auth.authenticate import Authenticator, Callers
from auth.errors import Unauthenticated
from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE, Identity
from domain.access import Grant, Role
from domain.services.callers import CallerRecord
from domain.uow import UnitOfWork

OPERATOR_TENANT = "0a0a0a0a-0b0b-4c0c-8d0d-0e0e0e0e0e0e"
PARTNER_TENANT = "1a1a1a1a-1b1b-4c1c-8d1d-1e1e1e1e1e1e"
OBJECT_ID = "2a2a2a2a-2b2b-4c2c-8d2d-2e2e2e2e2e2e"
GRANT = Grant(role=Role.INCENTIVES_ADMIN, location_ids=frozenset({7}), program_ids=None)
RECORD = CallerRecord(
    organization_id=3, user_id=5, org_roles=frozenset({Role.ACCOUNT_ADMIN}), grants=(GRANT,)
)


class FakeValidator:
    def __init__(self, identity: Identity | None) -> None:
        self.identity = identity

    async def validate(self, authorization: Sequence[str]) -> Identity:
        if self.identity is None:
            raise Unauthenticated("refused by the fake")
        return self.identity


class FakeLoader:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(
        self,
        uow: UnitOfWork,
        *,
        tenant_id: str,
        object_id: str,
        display_name: str | None,
        email: str | None,
        is_global_admin: bool,
    ) -> CallerRecord:
        async with uow:  # the loader opens the unit of work, as `load_caller` does
            assert uow.session is not None
        self.calls.append(
            {
                "tenant_id": tenant_id,
                "object_id": object_id,
                "display_name": display_name,
                "email": email,
                "is_global_admin": is_global_admin,
            }
        )
        return RECORD


@pytest.fixture
async def sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # No statement is executed, so the in-memory engine never even connects.
    engine = create_async_engine("sqlite+aiosqlite://")
    yield async_sessionmaker(engine)
    await engine.dispose()


def _identity(tenant_id: str = PARTNER_TENANT, **fields: Any) -> Identity:
    return Identity(tenant_id=tenant_id, object_id=OBJECT_ID, **fields)


def _authenticator(
    sessions: async_sessionmaker[AsyncSession], identity: Identity | None, loader: FakeLoader
) -> Authenticator:
    return Authenticator(FakeValidator(identity), sessions, OPERATOR_TENANT, load_caller=loader)


async def test_the_principal_carries_the_token_identity_and_the_stored_record(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    loader = FakeLoader()
    identity = _identity(
        display_name="Adele Vance", email="adele@contoso.example", wids=frozenset({GLOBAL_ADMINISTRATOR_WID})
    )

    principal = await _authenticator(sessions, identity, loader).principal_for(["Bearer x"])

    assert principal.identity == identity
    assert (principal.organization_id, principal.user_id) == (3, 5)
    assert principal.org_roles == {Role.ACCOUNT_ADMIN}
    assert principal.grants == (GRANT,)
    assert not principal.is_operator
    assert loader.calls == [
        {
            "tenant_id": PARTNER_TENANT,
            "object_id": OBJECT_ID,
            "display_name": "Adele Vance",
            "email": "adele@contoso.example",
            "is_global_admin": True,
        }
    ]


@pytest.mark.parametrize(
    ("tenant_id", "app_roles", "is_operator"),
    [
        pytest.param(OPERATOR_TENANT, {OPERATOR_APP_ROLE}, True, id="operator role in the operator tenant"),
        pytest.param(OPERATOR_TENANT.upper(), {OPERATOR_APP_ROLE}, True, id="tenant id in upper case"),
        pytest.param(PARTNER_TENANT, {OPERATOR_APP_ROLE}, False, id="operator role from another tenant"),
        pytest.param(OPERATOR_TENANT, set(), False, id="operator tenant without the role"),
    ],
)
async def test_only_the_operator_role_in_the_operator_tenant_makes_an_operator(
    sessions: async_sessionmaker[AsyncSession], tenant_id: str, app_roles: set[str], is_operator: bool
) -> None:
    identity = _identity(tenant_id, app_roles=frozenset(app_roles))

    principal = await _authenticator(sessions, identity, FakeLoader()).principal_for(["Bearer x"])

    assert principal.is_operator is is_operator


async def test_a_refused_token_never_reaches_the_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    loader = FakeLoader()

    with pytest.raises(Unauthenticated):
        await _authenticator(sessions, None, loader).principal_for([])
    assert loader.calls == []


@pytest.mark.parametrize(
    ("tenant_id", "is_operator"),
    [
        pytest.param(OPERATOR_TENANT, True, id="operator tenant"),
        pytest.param(PARTNER_TENANT, False, id="partner"),
    ],
)
async def test_an_app_only_caller_is_an_operator_or_nothing_and_never_reaches_the_database(
    sessions: async_sessionmaker[AsyncSession], tenant_id: str, is_operator: bool
) -> None:
    loader = FakeLoader()
    identity = _identity(
        tenant_id,
        is_app=True,
        app_roles=frozenset({OPERATOR_APP_ROLE, "Partner.GlobalAdmin"}),
        wids=frozenset({GLOBAL_ADMINISTRATOR_WID}),
    )

    principal = await _authenticator(sessions, identity, loader).principal_for(["Bearer x"])

    assert principal.is_operator is is_operator
    assert not principal.is_global_admin
    assert (principal.organization_id, principal.org_roles, principal.grants) == (None, frozenset(), ())
    assert loader.calls == []


class FakeVersions:
    """The version of each tenant's callers, as `domain.services.callers.callers_version` reads it."""

    def __init__(self) -> None:
        self.now: dict[str, int] = {}

    async def __call__(self, tenant_id: str) -> int:
        return self.now.get(tenant_id, 0)


async def test_a_remembered_caller_is_read_again_once_their_tenants_version_moved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    loader, versions = FakeLoader(), FakeVersions()
    authenticator = Authenticator(
        FakeValidator(_identity()),
        sessions,
        OPERATOR_TENANT,
        load_caller=loader,
        recent=Callers(),
        read_version=versions,
    )

    await authenticator.principal_for(["Bearer x"])
    await authenticator.principal_for(["Bearer x"])
    assert len(loader.calls) == 1  # remembered
    versions.now[PARTNER_TENANT] = 1  # another process assigned or revoked a role there
    await authenticator.principal_for(["Bearer x"])
    await authenticator.principal_for(["Bearer x"])
    assert len(loader.calls) == 2


def test_callers_are_all_forgotten_when_events_may_have_been_missed() -> None:
    recent = Callers()
    key = (PARTNER_TENANT, OBJECT_ID, None, None, False)
    recent.put(key, 4, RECORD)
    assert recent.get(key, 4) == RECORD

    recent.forget_all()

    assert recent.get(key, 4) is None
