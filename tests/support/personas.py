"""Callers with real tokens from the loopback Entra: partners of a tenant, and operators.

tenant = Tenant()
admin = global_admin(entra, tenant)          # wids holds the Global Administrator role
api.graphql("{ viewer { isGlobalAdmin } }", token=admin.token)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE
from tests.support.entra import OPERATOR_TENANT_ID, RunningEntra


def new_guid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Tenant:
    """A partner's Entra tenant, with a random GUID id."""

    id: str = field(default_factory=new_guid)


class Persona(NamedTuple):
    object_id: str
    token: str


def user(
    entra: RunningEntra,
    tenant: Tenant,
    *,
    object_id: str | None = None,
    name: str | None = "Pat Partner",
    email: str | None = None,
) -> Persona:
    """A user of `tenant` with no role from the token (stored assignments may give it some)."""
    oid = object_id or new_guid()
    return Persona(oid, entra.mint(tenant_id=tenant.id, object_id=oid, name=name, email=email))


def global_admin(
    entra: RunningEntra, tenant: Tenant, *, object_id: str | None = None, name: str | None = "Gale Admin"
) -> Persona:
    """An Entra Global Administrator of `tenant` (the `wids` claim)."""
    oid = object_id or new_guid()
    token = entra.mint(
        tenant_id=tenant.id,
        object_id=oid,
        name=name,
        email=f"{oid[:8]}@partner.example",
        wids=[GLOBAL_ADMINISTRATOR_WID],
    )
    return Persona(oid, token)


def operator(entra: RunningEntra, *, object_id: str | None = None) -> Persona:
    """Incentives operations staff: the operator tenant and the Incentives.Operator app role."""
    oid = object_id or new_guid()
    token = entra.mint(
        tenant_id=OPERATOR_TENANT_ID, object_id=oid, name="Otto Operator", roles=[OPERATOR_APP_ROLE]
    )
    return Persona(oid, token)
