"""From the Authorization header to a `Principal`: the token's roles joined with the stored ones.

App-only callers (daemons, `idtyp=app`) are operators or nothing: they never hold partner roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import OPERATOR_APP_ROLE, Identity, Principal
from domain.services import callers
from domain.services.callers import CallerRecord
from domain.uow import UnitOfWork


class IdentitySource(Protocol):
    """What the Authenticator needs of `auth.tokens.TokenValidator`."""

    async def validate(self, authorization: Sequence[str]) -> Identity: ...


class CallerLoader(Protocol):
    """The shape of `domain.services.callers.load_caller`; tests pass a fake."""

    async def __call__(
        self,
        uow: UnitOfWork,
        *,
        tenant_id: str,
        object_id: str,
        display_name: str | None,
        email: str | None,
        is_global_admin: bool,
    ) -> CallerRecord: ...


class Authenticator:
    """`await authenticator.principal_for(headers.getlist("authorization"))` -> `Principal`.

    Raises `auth.errors.Unauthenticated` when the token is refused.
    """

    def __init__(
        self,
        validator: IdentitySource,
        sessions: async_sessionmaker[AsyncSession],
        operator_tenant_id: str,
        *,
        load_caller: CallerLoader = callers.load_caller,
    ) -> None:
        self._validator = validator
        self._sessions = sessions
        self._operator_tenant_id = operator_tenant_id
        self._load_caller = load_caller

    async def principal_for(self, authorization: Sequence[str]) -> Principal:
        identity = await self._validator.validate(authorization)
        if identity.is_app:
            return self._app_principal(identity)
        record = await self._record_of(identity)
        return Principal(
            identity=identity,
            organization_id=record.organization_id,
            user_id=record.user_id,
            is_operator=self._is_operator(identity),
            org_roles=record.org_roles,
            grants=record.grants,
        )

    async def _record_of(self, identity: Identity) -> CallerRecord:
        async with UnitOfWork(self._sessions) as uow:
            return await self._load_caller(
                uow,
                tenant_id=identity.tenant_id,
                object_id=identity.object_id,
                display_name=identity.display_name,
                email=identity.email,
                is_global_admin=identity.claims_global_admin,
            )

    def _app_principal(self, identity: Identity) -> Principal:
        # A daemon holds no partner role, neither from its token nor from stored assignments (an
        # assignment names a person), and is not remembered as a user: it may only be an operator.
        return Principal(identity=identity, is_operator=self._is_operator(identity))

    def _is_operator(self, identity: Identity) -> bool:
        # The app role alone is not enough: any tenant can define an app role of that name.
        in_operator_tenant = identity.tenant_id.lower() == self._operator_tenant_id.lower()
        return OPERATOR_APP_ROLE in identity.app_roles and in_operator_tenant
