"""Actors of every role, as the real `auth.principal.Principal`, for service tests.

org_admin = global_admin(TENANT, organization_id=org.id)
admin = incentives_admin(TENANT, org.id, locations=[loc.id], programs=None)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE, Identity, Principal
from domain.access import Grant, Role

OPERATOR_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def new_guid() -> str:
    return str(uuid.uuid4())


def identity(
    tenant_id: str, object_id: str | None = None, *, email: str | None = None, name: str | None = None
) -> Identity:
    return Identity(tenant_id=tenant_id, object_id=object_id or new_guid(), display_name=name, email=email)


def global_admin(
    tenant_id: str,
    organization_id: int | None = None,
    *,
    object_id: str | None = None,
    email: str | None = None,
) -> Principal:
    """A Global admin by the token (wids); its tenant's organization, when it has one."""
    base = identity(tenant_id, object_id, email=email, name="Global Admin")
    token = Identity(**{**base.__dict__, "wids": frozenset({GLOBAL_ADMINISTRATOR_WID})})
    return Principal(identity=token, organization_id=organization_id)


def account_admin(
    tenant_id: str, organization_id: int, *, object_id: str | None = None, email: str | None = None
) -> Principal:
    return Principal(
        identity=identity(tenant_id, object_id, email=email, name="Account Admin"),
        organization_id=organization_id,
        org_roles=frozenset({Role.ACCOUNT_ADMIN}),
    )


def incentives_admin(
    tenant_id: str,
    organization_id: int,
    *,
    locations: Iterable[int] | None = None,
    programs: Iterable[int] | None = None,
    object_id: str | None = None,
    email: str | None = None,
) -> Principal:
    """An Incentives admin of `locations` x `programs` (None: the entire organization / all programs)."""
    return _incentives(
        Role.INCENTIVES_ADMIN, tenant_id, organization_id, locations, programs, object_id, email
    )


def incentives_user(
    tenant_id: str,
    organization_id: int,
    *,
    locations: Iterable[int] | None = None,
    programs: Iterable[int] | None = None,
    object_id: str | None = None,
) -> Principal:
    return _incentives(Role.INCENTIVES_USER, tenant_id, organization_id, locations, programs, object_id, None)


def _incentives(
    role: Role,
    tenant_id: str,
    organization_id: int,
    locations: Iterable[int] | None,
    programs: Iterable[int] | None,
    object_id: str | None,
    email: str | None,
) -> Principal:
    grant = Grant(
        role,
        None if locations is None else frozenset(locations),
        None if programs is None else frozenset(programs),
    )
    return Principal(
        identity=identity(tenant_id, object_id, email=email, name=role.value.title()),
        organization_id=organization_id,
        grants=(grant,),
    )


def operator(tenant_id: str = OPERATOR_TENANT) -> Principal:
    token = Identity(
        tenant_id=tenant_id,
        object_id=new_guid(),
        display_name="Operator",
        app_roles=frozenset({OPERATOR_APP_ROLE}),
    )
    return Principal(identity=token, is_operator=True)


def member(tenant_id: str, organization_id: int, *, object_id: str | None = None) -> Principal:
    """A signed-in user of the organization's tenant with no role at all."""
    return Principal(identity=identity(tenant_id, object_id), organization_id=organization_id)


def stranger(tenant_id: str | None = None) -> Principal:
    """A signed-in user of a tenant that belongs to no organization, with no role."""
    return Principal(identity=identity(tenant_id or new_guid()))
