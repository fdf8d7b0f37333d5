"""Invitations and home-page notices (contract rules 7 and 9)."""

from __future__ import annotations

from domain.access import Actor
from domain.model import Invitation
from domain.uow import UnitOfWork


async def issue_invitations(uow: UnitOfWork, actor: Actor, *, program_id: int) -> int:
    """Rule 7; returns how many invitations were created (0 when run again)."""
    raise NotImplementedError


async def dismiss_invitation(uow: UnitOfWork, actor: Actor, *, invitation_id: int) -> Invitation:
    raise NotImplementedError
