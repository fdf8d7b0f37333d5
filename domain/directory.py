"""The partners' Entra directories, as the service needs them: find a user, search for users.

`adapters.graph.GraphClient` answers through Microsoft Graph; the API's `directoryUsers` and
`assignRole` (by user principal name) ask it, always in the caller's own tenant. Either method
raises `domain.errors.NotConfigured` when the service has no Graph credentials, and another
`domain.errors.OutsideServiceError` when the directory refused or could not be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the tenant's directory knows them."""

    object_id: str
    display_name: str
    mail: str | None
    user_principal_name: str


class Directory(Protocol):
    async def user_by_principal_name(self, tenant_id: str, user_principal_name: str) -> DirectoryUser | None:
        """The user with this UPN in `tenant_id`'s directory, or None when there is none."""
        ...

    async def search_users(self, tenant_id: str, text: str, limit: int = 20) -> list[DirectoryUser]:
        """Users whose display name, mail or UPN starts a word with `text`."""
        ...
