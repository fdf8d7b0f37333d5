// @ts-check
// The incentives console: signs in with MSAL.js (authorization code + PKCE), then shows the
// caller's workspace from the API. Pages: #/home, #/incentives, #/profiles, #/users, #/audit,
// #/operations, and #/invitations/{number} (the email's /console/invitations/{number} lands there). No build step: ES modules and two pinned scripts (MSAL.js, graphql-ws).
//
// This module routes between the pages (one module each) and follows live events. Every operation
// is in operations.graphql; the types the modules name are generated from it and from
// schema.graphql (clients/codegen.ts), and `tsc` checks every module against them in CI.

import { Api } from "./graphql.js";
import { announce, h } from "./dom.js";
import { app, main, t } from "./state.js";
import { auditPage } from "./audit.js";
import { homePage } from "./home.js";
import { incentivesPage } from "./incentives.js";
import { invitationPage } from "./invitation.js";
import { isAdminOfUsers, loadWorkspace, organization, replaceEnrollment, roles } from "./workspace.js";
import { operationsPage, reviewRow } from "./operations.js";
import { profilesPage } from "./profiles.js";
import { usersPage } from "./users.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentChangesSubscription} EnrollmentChange */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleInvitationsSubscription} InvitationEvent */
/** @typedef {import("./state.js").Config} Config */

const PAGES = {
  home: { label: "nav.home", show: () => true, render: homePage },
  incentives: { label: "nav.incentives", show: () => organization() != null, render: incentivesPage },
  profiles: {
    label: "nav.profiles",
    show: () => organization() != null && (roles().has("GLOBAL_ADMIN") || roles().has("INCENTIVES_ADMIN") || roles().has("INCENTIVES_USER")),
    render: profilesPage,
  },
  users: { label: "nav.users", show: () => organization() != null && isAdminOfUsers(), render: usersPage },
  audit: { label: "nav.audit", show: () => roles().has("GLOBAL_ADMIN"), render: auditPage },
  operations: { label: "nav.operations", show: () => app.workspace.viewer.isOperator, render: operationsPage },
};

// The console's folder (/console/): its files and MSAL's redirect URI, from any page under it.
const HOME = new URL("./", import.meta.url);
const INVITATION_PATH = /\/invitations\/(\d+)\/?$/;
const INVITATION_HASH = /^#\/invitations\/(\d+)$/;

/** The invitation number an email's link opened (#/invitations/42), if that is the page. */
function invitationShown() {
  return organization() != null ? INVITATION_HASH.exec(location.hash)?.[1] ?? null : null;
}

/** @returns {keyof typeof PAGES} */
function currentPage() {
  const name = location.hash.replace(/^#\/?/, "");
  return name in PAGES && PAGES[/** @type {keyof typeof PAGES} */ (name)].show()
    ? /** @type {keyof typeof PAGES} */ (name)
    : "home";
}

function renderNav() {
  const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
  const here = currentPage();
  const items = Object.entries(PAGES)
    .filter(([, page]) => page.show())
    .map(([name, page]) =>
      h("li", null, h("a", { href: `#/${name}`, "aria-current": name === here ? "page" : undefined }, t(page.label))),
    );
  nav.replaceChildren(h("ul", null, items));
}

/** @param {boolean} [focus] */
async function render(focus = false) {
  renderNav();
  const page = PAGES[currentPage()];
  const invitation = invitationShown();
  try {
    const content = await (invitation ? invitationPage(invitation) : page.render());
    main.replaceChildren(...content.filter((node) => node !== null));
  } catch (error) {
    main.replaceChildren(h("p", { class: "form-error", role: "alert" }, t("loadFailed", { reason: String(error instanceof Error ? error.message : error) })));
  }
  const heading = /** @type {HTMLElement | null} */ (main.querySelector("h1"));
  if (focus && heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

// --- live updates --------------------------------------------------------------------------------

/** @type {ReturnType<typeof setTimeout> | null} */
let redraw = null;

/** Draws the page again soon: a burst of events (a roll-forward's) is one redraw, not one each. */
function redrawSoon() {
  if (redraw !== null) return;
  redraw = setTimeout(() => {
    redraw = null;
    const active = document.activeElement;
    // Not under someone's typing: once they leave the control, the page is drawn again.
    if (active && main.contains(active) && active.matches("input, select, textarea")) {
      active.addEventListener("blur", redrawSoon, { once: true });
    } else {
      render();
    }
  }, 250);
}

/** The review queue on the Operations page follows an enrollment's change: in it while it is being
 * validated, out of it once reviewed (the rest of the page stays as the operator left it).
 * @param {Enrollment} changed */
function updateQueue(changed) {
  const row = main.querySelector(`[data-review="${changed.id}"]`);
  if (changed.status !== "VALIDATING_ENROLLMENT") {
    row?.remove();
    return;
  }
  const rows = main.querySelector("#review-queue tbody");
  if (rows && !row) rows.append(reviewRow(changed));
  else if (!rows) redrawSoon(); // the queue was empty: drawn again, with its table
}

/** Statuses and notices change in place as events arrive: the workspace is not read again. */
function followChanges() {
  app.api.subscribe("ConsoleEnrollmentChanges", (/** @type {EnrollmentChange} */ data) => {
    const changed = data.enrollmentStatusChanged;
    announce(t("live.updated", { program: changed.program.name, location: changed.location.name, status: t(`status.${changed.status}`) }));
    replaceEnrollment(changed);
    if (currentPage() === "operations") updateQueue(changed);
    else if (currentPage() === "home" || currentPage() === "incentives") redrawSoon();
  });
  if (organization() && !app.workspace.viewer.isOperator) {
    app.api.subscribe("ConsoleInvitations", (/** @type {InvitationEvent} */ data) => {
      const invitation = data.invitationReceived;
      announce(t("live.invited", { program: invitation.program.name, location: invitation.location.name }));
      const notices = app.workspace.viewer.invitations;
      if (!notices.some((notice) => notice.id === invitation.id)) notices.push(invitation);
      redrawSoon();
    });
  }
}

// --- signing in ----------------------------------------------------------------------------------

/** MSAL.js, configured for the authority. MSAL requires an https authority: a loopback sign-in
 * service (the demo's) is named by an https address that is never contacted, with its own
 * discovery document handed over as `authorityMetadata`.
 * @param {Config} config */
async function signInClient(config) {
  const authority = `${config.authorityHost}/${config.tenant}`;
  /** @type {Record<string, unknown>} */
  // Back to /console/ (the registered redirect URI) from any page; MSAL then returns to the page
  // that started the sign-in (an invitation's link), so the deep link survives it.
  const auth = { clientId: config.clientId, authority, redirectUri: HOME.href, navigateToLoginRequestUrl: true };
  if (authority.startsWith("http://")) {
    const discovery = await fetch(`${authority}/v2.0/.well-known/openid-configuration`);
    const host = new URL(authority).host;
    auth.authority = `https://${host}/${config.tenant}`;
    auth.knownAuthorities = [host];
    auth.authorityMetadata = JSON.stringify(await discovery.json());
  }
  // @ts-ignore: MSAL.js's browser build (vendored, pinned) defines the global `msal`
  const client = new globalThis.msal.PublicClientApplication({ auth, cache: { cacheLocation: "sessionStorage" } });
  await client.initialize();
  return client;
}

async function start() {
  app.render = render;
  app.config = await (await fetch(new URL("config.json", HOME))).json();
  const msal = await signInClient(app.config);
  const redirected = await msal.handleRedirectPromise();
  const account = redirected?.account ?? msal.getAllAccounts()[0];
  if (!account) {
    main.replaceChildren(h("p", null, t("signingIn")));
    await msal.loginRedirect({ scopes: app.config.scopes, redirectStartPage: location.href });
    return;
  }
  msal.setActiveAccount(account);
  // Signed in on an invitation's link: the console's own route to it, one page for the router.
  const invited = INVITATION_PATH.exec(location.pathname)?.[1];
  if (invited) history.replaceState(null, "", `${HOME.pathname}#/invitations/${invited}`);
  const token = async () => {
    try {
      return (await msal.acquireTokenSilent({ scopes: app.config.scopes, account })).accessToken;
    } catch (error) {
      await msal.acquireTokenRedirect({ scopes: app.config.scopes, account });
      throw error;
    }
  };
  app.api = new Api(new URL(app.config.graphqlPath, location.href).href, token, app.config.documentId);
  await loadWorkspace();
  const who = /** @type {HTMLElement} */ (document.getElementById("who"));
  const labels = [...roles()].map((role) => t(`role.${role}`));
  if (app.workspace.viewer.isOperator) labels.push(t("role.OPERATOR"));
  who.replaceChildren(
    h("span", null, `${app.workspace.viewer.displayName ?? account.username} · ${labels.join(", ")}`),
    h("button", { type: "button", onclick: () => msal.logoutRedirect({ account }) }, t("signOut")),
  );
  window.addEventListener("hashchange", () => render(true));
  // The skip link moves focus to the content; following its #main would change the page.
  document.querySelector(".skip")?.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  await render();
  followChanges();
  document.body.dataset.ready = "true";
}

// A request a control started that failed outside any form (the service away, the network down):
// said at the top of the page, in place of the last such message, rather than nowhere.
window.addEventListener("unhandledrejection", (event) => {
  const reason = event.reason instanceof Error ? event.reason.message : String(event.reason);
  document.getElementById("failure")?.remove();
  main.prepend(h("p", { id: "failure", class: "form-error", role: "alert" }, t("loadFailed", { reason })));
});

start().catch((error) => {
  const reason = error instanceof Error ? error.message : String(error);
  main.replaceChildren(h("p", { class: "form-error", role: "alert" }, t("signInFailed", { reason })));
  document.body.dataset.ready = "failed";
});
