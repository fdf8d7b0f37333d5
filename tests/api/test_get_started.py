"""What the console needs to open an invitation from its email (rule 22): who can enroll it (the
Incentives admins covering it) and whether the caller is one of them."""

from __future__ import annotations

from api.graphql.ids import to_global_id
from domain.model import Invitation
from domain.vocabulary import CriterionKind
from tests.api.conftest import Seeded
from tests.api.world import ApiWorld, key
from tests.support.in_process import InProcessApi

OPENED = """query($id: ID!) { node(id: $id) { ... on Invitation {
  location { name } viewerCanEnroll incentivesAdmins { displayName role } } } }"""


def test_an_invitation_names_who_can_enroll_it_and_whether_the_caller_may(
    api: InProcessApi, world: ApiWorld, seeded: Seeded
) -> None:
    fresh = world.run(world.builder.program("FRESH", [CriterionKind.DISTRIBUTOR_AGREEMENT]))
    world.run(world.builder.invite(fresh))
    opened: dict[str, str] = {}
    for name, location in (("Lisbon", seeded.lisbon_id), ("Porto", seeded.porto_id)):
        (row,) = world.run(
            world.builder.rows(
                Invitation,
                Invitation.location_id == key(location, "Location"),
                Invitation.program_id == fresh,
            )
        )
        opened[name] = to_global_id("Invitation", row.id)

    def read(name: str, token: str) -> object:
        return api.graphql(OPENED, {"id": opened[name]}, token=token)["data"]["node"]

    lisbon = {"name": "Lisbon"}
    ines = [{"displayName": "Ines Admin", "role": "INCENTIVES_ADMIN"}]
    assert read("Lisbon", seeded.incentives_admin.token) == {
        "location": lisbon,
        "viewerCanEnroll": True,
        "incentivesAdmins": ines,
    }
    # The Global admin and the Incentives user see who enrolls it, and that they do not.
    for other in (seeded.global_admin, seeded.incentives_user):
        assert read("Lisbon", other.token) == {
            "location": lisbon,
            "viewerCanEnroll": False,
            "incentivesAdmins": ines,
        }
    # Porto has no Incentives admin: the console says a Global or Account admin must assign one.
    assert read("Porto", seeded.global_admin.token) == {
        "location": {"name": "Porto"},
        "viewerCanEnroll": False,
        "incentivesAdmins": [],
    }
    assert read("Porto", seeded.incentives_admin.token) is None  # not a location she covers
