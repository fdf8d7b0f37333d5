"""The loopback Entra's device login page, where a person enters a device code, as at
https://microsoft.com/devicelogin; instead of a password they pick a user of the directory.

    GET  /devicelogin     a form: the code and a user of any tenant
    POST /devicelogin     approve the code as that user (form fields `user_code`, `user`)

Loopback only, like all of the sandbox: whoever reaches the page may sign in as anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from sandbox.graph import LoopbackDirectory, LoopbackUser

PATH = "/devicelogin"

Approve = Callable[[str, LoopbackUser], None]


class DeviceLoginPage:
    """The page, approving codes with `approve` as users found in `directory`."""

    def __init__(self, directory: LoopbackDirectory, approve: Approve) -> None:
        self._directory, self._approve = directory, approve

    def routes(self) -> list[Route]:
        return [Route(PATH, self._page, methods=["GET", "POST"])]

    async def _page(self, request: Request) -> HTMLResponse:
        if request.method == "GET":
            return self._form(request.query_params.get("code", ""))
        form = await posted_form(request)
        user_code = form.get("user_code", "").strip().upper()
        user = self._directory.by_key(form.get("user", ""))
        if user is None:
            return self._form(user_code, "Pick a user.", status_code=400)
        try:
            self._approve(user_code, user)
        except KeyError:
            return self._form(user_code, f"No sign-in is waiting for the code {user_code!r}.", 400)
        return HTMLResponse(
            signin_page(
                f"<p>Signed in as {escape(user.display_name)} &lt;{escape(user.user_principal_name)}&gt;."
                " You can close this window and go back to your terminal.</p>"
            )
        )

    def _form(self, user_code: str, problem: str = "", status_code: int = 200) -> HTMLResponse:
        error = f'<p role="alert">{escape(problem)}</p>' if problem else ""
        body = (
            f"{error}<form method=post action={PATH}>"
            f'<p><label>Code <input name=user_code value="{escape(user_code)}" required autofocus>'
            "</label></p>"
            f"<p><label>Sign in as <select name=user>{user_options(self._directory.everyone())}"
            "</select></label></p>"
            "<p><button type=submit>Sign in</button></p></form>"
        )
        return HTMLResponse(signin_page(body), status_code=status_code)


async def posted_form(request: Request) -> dict[str, str]:
    """A form a browser posted (urlencoded), parsed here: the sandbox needs no python-multipart."""
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def user_options(users: list[LoopbackUser]) -> str:
    """The users to pick from, as `<option>`s whose values `LoopbackDirectory.by_key` finds."""
    return "".join(
        f'<option value="{escape(user.tenant_id)}/{escape(user.object_id)}">{escape(user.display_name)} '
        f"&lt;{escape(user.user_principal_name)}&gt;</option>"
        for user in users
    )


def signin_page(body: str) -> str:
    """A page of the loopback sign-in service (this one and the authorization page)."""
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Sign in (loopback Entra ID)</title>"
        f"<h1>Sign in to the demo</h1>{body}</html>"
    )
