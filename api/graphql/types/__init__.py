"""The object types of the schema, one module per concept; import them from here.

base          Info, Node, Connection/Edge (named e.g. LocationConnection), access helpers
program       IncentiveProgram
payout        PaymentProfile, TaxProfile
people        User, RoleAssignment, Contact
enrollment    Invitation, Enrollment
location      Location, Eligibility, CriterionResult
organization  Organization, Agreement, AuditEvent
viewer        Viewer
"""

from __future__ import annotations

from api.graphql.types.base import Connection, Edge, Info, Node
from api.graphql.types.enrollment import Enrollment, Invitation
from api.graphql.types.location import CriterionResult, Eligibility, Location
from api.graphql.types.organization import Agreement, AuditEvent, Organization
from api.graphql.types.payout import PaymentProfile, TaxProfile
from api.graphql.types.people import Contact, RoleAssignment, User
from api.graphql.types.program import IncentiveProgram
from api.graphql.types.viewer import Viewer

__all__ = [
    "Agreement",
    "AuditEvent",
    "Connection",
    "Contact",
    "CriterionResult",
    "Edge",
    "Eligibility",
    "Enrollment",
    "IncentiveProgram",
    "Info",
    "Invitation",
    "Location",
    "Node",
    "Organization",
    "PaymentProfile",
    "RoleAssignment",
    "TaxProfile",
    "User",
    "Viewer",
]
