"""From the Authorization header to a `Principal`: the token's roles joined with the stored ones.

App-only callers (daemons, `idtyp=app`) are operators or nothing: they never hold partner roles.
What the service stores of a caller (organization, assignments) is remembered for a few seconds
(`Callers`), so a caller's requests do not each read it again, but only while the version of the
tenant's callers is the one it was read at: each request reads that version, and every change to
what callers may do bumps it in its own transaction, so the change holds on the next request to
every process, whatever became of the `CallersChanged` event (a fast path only).

`principal_for` reads the version before answering (one statement). `remembered_for` trusts a
remembered caller first and hands back what to `confirm` (`Unconfirmed`): a planned read (the
lane's, Strawberry's) reads the version in its own first statement, and asks again when it moved;
anything else once the request is admitted (`api.graphql.context.Context.confirm`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.principal import OPERATOR_APP_ROLE, Identity, Principal
from domain.services import callers
from domain.services.callers import CallerRecord
from domain.uow import UnitOfWork


class IdentitySource(Protocol):
    """What the Authenticator needs of `auth.tokens.TokenValidator`."""

    async def validate(self, authorization: Sequence[str]) -> Identity: ...


class VersionReader(Protocol):
    """The version of a tenant's callers now (`domain.caller_versions`), in one statement."""

    async def __call__(self, tenant_id: str) -> int: ...


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


CALLER_SECONDS = 10.0
MAX_CALLERS = 10_000
CallerKey = tuple[str, str, str | None, str | None, bool]
Remembered = tuple[float, int, CallerRecord]  # until when, the tenant's version it was read at, what


@dataclass(frozen=True)
class Unconfirmed:
    """A remembered caller trusted before its tenant's version was read: `Authenticator.confirm`."""

    key: CallerKey
    version: int  # the version of the tenant's callers it was read at

    @property
    def tenant_id(self) -> str:
        return self.key[0]


class Callers:
    """The stored record of recent callers, for `seconds` at most, the least recently seen first out.

    Keyed by everything of the token that the record depends on, so a new name, email or Global
    admin claim reads (and stores) it again.
    """

    def __init__(
        self,
        seconds: float = CALLER_SECONDS,
        capacity: int = MAX_CALLERS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._now = now
        self._records: OrderedDict[CallerKey, Remembered] = OrderedDict()

    def get(self, key: CallerKey, version: int) -> CallerRecord | None:
        """The record read at `version` of its tenant's callers, unless it has expired."""
        found = self.remembered(key)
        if found is None or found[0] != version:
            self.forget(key)
            return None
        return found[1]

    def remembered(self, key: CallerKey) -> tuple[int, CallerRecord] | None:
        """The record and the version it was read at, unless it has expired; to be confirmed."""
        found = self._records.get(key)
        if found is None:
            return None
        if self._now() >= found[0]:
            del self._records[key]
            return None
        self._records.move_to_end(key)
        return found[1], found[2]

    def forget(self, key: CallerKey) -> None:
        self._records.pop(key, None)

    def put(self, key: CallerKey, version: int, record: CallerRecord) -> None:
        self._records[key] = (self._now() + self._seconds, version, record)
        self._records.move_to_end(key)
        while len(self._records) > self._capacity:
            self._records.popitem(last=False)

    def forget_tenant(self, tenant_id: str) -> None:
        """Someone's roles in this tenant changed: read its callers afresh."""
        tenant = tenant_id.lower()
        for key in [key for key in self._records if key[0].lower() == tenant]:
            del self._records[key]

    def forget_all(self) -> None:
        """This process may have missed changes (its event listener was down): read everyone afresh."""
        self._records.clear()


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
        recent: Callers | None = None,
        read_version: VersionReader | None = None,
    ) -> None:
        self._validator = validator
        self._sessions = sessions
        self._operator_tenant_id = operator_tenant_id
        self._load_caller = load_caller
        self.read_version = read_version or self._version_in_a_session
        self.recent = recent

    async def principal_for(self, authorization: Sequence[str]) -> Principal:
        """The caller, what is remembered of them confirmed at their tenant's version now."""
        principal, unconfirmed = await self.remembered_for(authorization)
        if unconfirmed is None or await self.confirm(unconfirmed):
            return principal
        principal, _ = await self.remembered_for(authorization)  # forgotten: read afresh
        return principal

    async def remembered_for(self, authorization: Sequence[str]) -> tuple[Principal, Unconfirmed | None]:
        """The caller, and when they were remembered, what to `confirm` before their answer counts."""
        identity = await self._validator.validate(authorization)
        operator_tenant_id = self._operator_tenant_id
        if self.recent is None or identity.is_app:
            uow = UnitOfWork(self._sessions)
            return await principal_of(identity, uow, operator_tenant_id, load_caller=self._load_caller), None
        key = (
            identity.tenant_id,
            identity.object_id,
            identity.display_name,
            identity.email,
            identity.claims_global_admin,
        )
        found = self.recent.remembered(key)
        if found is not None:
            return _principal(identity, found[1], operator_tenant_id), Unconfirmed(key, found[0])
        # Read before the record: a change committed in between is then newer than the version
        # remembered with it, and the next request reads the caller again.
        version = await self.read_version(identity.tenant_id)
        record = await self._load_caller(
            UnitOfWork(self._sessions),
            tenant_id=identity.tenant_id,
            object_id=identity.object_id,
            display_name=identity.display_name,
            email=identity.email,
            is_global_admin=identity.claims_global_admin,
        )
        self.recent.put(key, version, record)
        return _principal(identity, record, operator_tenant_id), None

    async def confirm(self, unconfirmed: Unconfirmed, version: int | None = None) -> bool:
        """Whether the remembered caller still holds at `version` (read now when not given);
        when not, they are forgotten."""
        if version is None:
            version = await self.read_version(unconfirmed.tenant_id)
        if version == unconfirmed.version:
            return True
        if self.recent is not None:
            self.recent.forget(unconfirmed.key)
        return False

    async def _version_in_a_session(self, tenant_id: str) -> int:
        return await callers.callers_version(UnitOfWork(self._sessions), tenant_id)


async def principal_of(
    identity: Identity,
    uow: UnitOfWork,
    operator_tenant_id: str,
    *,
    load_caller: CallerLoader = callers.load_caller,
) -> Principal:
    """The caller an accepted token's identity is: its roles from the token joined with the stored ones.

    The demo's sample data signs its people in through here too, so they hold exactly the roles the
    API would give them.
    """
    is_operator = _is_operator(identity, operator_tenant_id)
    if identity.is_app:
        # A daemon holds no partner role, neither from its token nor from stored assignments (an
        # assignment names a person), and is not remembered as a user: it may only be an operator.
        return Principal(identity=identity, is_operator=is_operator)
    record = await load_caller(
        uow,
        tenant_id=identity.tenant_id,
        object_id=identity.object_id,
        display_name=identity.display_name,
        email=identity.email,
        is_global_admin=identity.claims_global_admin,
    )
    return _principal(identity, record, operator_tenant_id)


def _principal(identity: Identity, record: CallerRecord, operator_tenant_id: str) -> Principal:
    return Principal(
        identity=identity,
        organization_id=record.organization_id,
        user_id=record.user_id,
        is_operator=_is_operator(identity, operator_tenant_id),
        org_roles=record.org_roles,
        grants=record.grants,
    )


def _is_operator(identity: Identity, operator_tenant_id: str) -> bool:
    # The app role alone is not enough: any tenant can define an app role of that name.
    in_operator_tenant = identity.tenant_id.lower() == operator_tenant_id.lower()
    return OPERATOR_APP_ROLE in identity.app_roles and in_operator_tenant
