"""MSAL.js itself (`@azure/msal-browser`, the vendored copy in api/static/console/) signs in
against the loopback Entra in a real Chromium: the authorization code flow with PKCE, as a single-page
app does against Entra ID, and the token it gets is one the API accepts (its claims).

MSAL.js accepts only https authorities; the page names the loopback service's tenant with an https
authority that is never contacted, and hands MSAL the service's own discovery document
(`authorityMetadata`, whose endpoints are the loopback's), as `knownAuthorities` allows."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from auth.principal import GLOBAL_ADMINISTRATOR_WID
from sandbox.entra import LoopbackEntra, LoopbackEntraServer, new_tenant_id
from tests.browser.conftest import Offline, offline_page, static_server

CONSOLE_STATIC = Path(__file__).resolve().parents[2] / "api" / "static" / "console"
SPA_ID = "7c1f0d2e-4a3b-4c5d-8e9f-0a1b2c3d4e5f"
API_ID = "5e1f0c2a-7b3d-4c8e-9a6f-0b1c2d3e4f5a"

PAGE = """<!doctype html><html lang=en><meta charset=utf-8><title>signing in</title>
<script src="msal-browser.min.js" integrity="@INTEGRITY@"></script>
<script>
const config = @CONFIG@;
(async () => {
  try {
    const app = new msal.PublicClientApplication({
      auth: {
        clientId: config.clientId,
        authority: config.authority,
        knownAuthorities: [new URL(config.authority).host],
        authorityMetadata: JSON.stringify(config.metadata),
        redirectUri: config.redirectUri,
      },
      cache: { cacheLocation: "sessionStorage" },
    });
    await app.initialize();
    const result = await app.handleRedirectPromise();
    const account = result ? result.account : app.getAllAccounts()[0];
    if (!account) { await app.loginRedirect({ scopes: config.scopes }); return; }
    const token = await app.acquireTokenSilent({ scopes: config.scopes, account });
    document.body.dataset.token = token.accessToken;
    document.body.dataset.user = account.username;
    document.title = "signed in";
  } catch (error) {
    document.title = "failed";
    document.body.dataset.error = String(error && (error.errorCode || error.message) || error);
  }
})();
</script></html>
"""


@pytest.fixture
def signed_in_page(browser: Any, tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    entra = LoopbackEntra()
    tenant = new_tenant_id()
    entra.add_directory_user(
        tenant, "0f1e2d3c-4b5a-4968-8776-655443322110", "gale@contoso.example", "Gale Admin",
        wids=[GLOBAL_ADMINISTRATOR_WID],
    )  # fmt: skip
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(CONSOLE_STATIC / "msal-browser.min.js", site)
    integrity = json.loads((CONSOLE_STATIC / "versions.json").read_text(encoding="utf-8"))[0]["integrity"]
    with LoopbackEntraServer(entra) as server:
        served = static_server(site)
        origin = next(served)
        try:
            redirect = f"{origin}/signin.html"
            entra.register_application(SPA_ID, public_client=True, redirect_uris=[redirect])
            metadata = httpx.get(f"{server.base_url}/{tenant}/v2.0/.well-known/openid-configuration").json()
            config = {
                "clientId": SPA_ID,
                "authority": f"https://{urlsplit(server.base_url).netloc}/{tenant}",
                "metadata": metadata,
                "redirectUri": redirect,
                "scopes": [f"api://{API_ID}/access_as_user"],
            }
            page_text = PAGE.replace("@INTEGRITY@", integrity).replace("@CONFIG@", json.dumps(config))
            (site / "signin.html").write_text(page_text, encoding="utf-8")
            offline = Offline()
            page = offline_page(browser, offline)
            try:
                yield page, redirect, server.base_url
            finally:
                page.close()
            assert offline.refused == []  # nothing left the machine
        finally:
            served.close()


def test_msal_js_signs_in_with_a_code_and_pkce_and_gets_a_token_for_the_api(
    signed_in_page: tuple[Any, str, str],
) -> None:
    page, redirect, entra_base = signed_in_page

    page.goto(redirect)
    page.wait_for_url(f"{entra_base}/**/oauth2/v2.0/authorize**")  # MSAL sent the browser to sign in
    assert "code_challenge=" in page.url
    page.get_by_label("Sign in as").select_option(label="Gale Admin <gale@contoso.example>")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function("document.title !== 'signing in'")

    assert page.title() == "signed in", page.evaluate("document.body.dataset.error")
    token = page.evaluate("document.body.dataset.token")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["azp"], claims["scp"]) == (API_ID, SPA_ID, "access_as_user")
    assert claims["wids"] == [GLOBAL_ADMINISTRATOR_WID]
    assert page.evaluate("document.body.dataset.user") == "gale@contoso.example"
    assert page.evaluate("Object.keys(localStorage).length") == 0  # tokens stay in sessionStorage
