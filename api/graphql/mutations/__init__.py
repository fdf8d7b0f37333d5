"""Every mutation: the partner side (organization, roles, incentives) and the operator side."""

from __future__ import annotations

import strawberry

from api.graphql.mutations.incentives import IncentivesMutations
from api.graphql.mutations.mail import MailMutations
from api.graphql.mutations.operator import OperatorMutations
from api.graphql.mutations.organization import OrganizationMutations


@strawberry.type(description="Each mutation takes one input and answers a payload with `userErrors`.")
class Mutation(OrganizationMutations, IncentivesMutations, OperatorMutations, MailMutations):
    """Each mutation takes one input and answers a payload with `userErrors`."""


__all__ = ["Mutation"]
