"""The demo's loopback directory: each sample person signs in (device code, or the authorization
page of a single-page app) with their Entra directory roles and the API's app roles, so the Global
admin is one and the operator is one."""

from __future__ import annotations

from auth.principal import GLOBAL_ADMINISTRATOR_WID, OPERATOR_APP_ROLE
from sandbox.demo import _loopback_graph
from sandbox.entra import LoopbackEntra
from sandbox.sample_data import CAST, COLLEAGUES


async def test_each_sample_person_is_in_the_directory_with_their_entra_roles() -> None:
    entra = LoopbackEntra()
    entra.set_base("http://127.0.0.1:9")  # never called: the directory is all this reads

    async with _loopback_graph(entra):
        users = {user.object_id: user for user in entra._directory.everyone()}

    assert {person.object_id for person in (*CAST, *COLLEAGUES)} <= set(users)
    for person in CAST:
        assert users[person.object_id].wids == tuple(sorted(person.wids))
        assert users[person.object_id].app_roles == tuple(sorted(person.app_roles))
    # The operator signs in to the console as one: the API's app role is in the tokens they get.
    assert any(OPERATOR_APP_ROLE in users[person.object_id].app_roles for person in CAST)
    assert any(GLOBAL_ADMINISTRATOR_WID in users[person.object_id].wids for person in CAST)
    assert all(users[colleague.object_id].wids == () for colleague in COLLEAGUES)
