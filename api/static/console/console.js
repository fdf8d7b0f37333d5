// @ts-check
// The incentives console: signs in with MSAL.js (authorization code + PKCE), then shows the
// caller's workspace from the API. Pages: #/home, #/incentives, #/profiles, #/users, #/audit,
// #/operations. No build step: ES modules and two pinned scripts (MSAL.js, graphql-ws).
//
// Every operation is in operations.graphql; the types named below are generated from it and from
// schema.graphql (clients/codegen.ts), and `tsc` checks this file against them in CI.

import { Api, byField } from "./graphql.js";
import { Words } from "./i18n.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleWorkspaceQuery} Workspace */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEligibilityQuery} EligibilityAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsolePaymentProfilesQuery} PaymentProfilesAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRolesQuery} RolesAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleDirectoryQuery} DirectoryAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleAuditLogQuery} AuditAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleReviewQueueQuery} QueueAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleDismissInvitationMutation} DismissAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleSetTaxProfileMutation} TaxAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleCreatePaymentProfileMutation} PaymentAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollMutation} EnrollAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleAssignRoleMutation} AssignAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRevokeRoleMutation} RevokeAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleReviewMutation} ReviewAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRollOverMutation} RollOverAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMoreLocationsQuery} MoreLocationsAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMoreEnrollmentsQuery} MoreEnrollmentsAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMoreProgramsQuery} MoreProgramsAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleUpdateEnrollmentMutation} UpdateEnrollmentAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMailQuery} MailAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleOrganizationsQuery} OrganizationsAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleOrganizationFragment} OrganizationRow */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRecordAgreementMutation} AgreementAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleSetDesignationMutation} DesignationAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleIssueInvitationsMutation} IssueAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleCreateProgramMutation} CreateProgramAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleDiscontinueProgramMutation} DiscontinueAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").CriterionKind} CriterionKind */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRequeueMailMutation} RequeueAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsolePageInfoFragment} PageInfo */
/** @typedef {import("../../../clients/generated/ts/graphql").AgreementKind} AgreementKind */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentChangesSubscription} EnrollmentChange */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleInvitationsSubscription} InvitationEvent */
/** @typedef {import("./graphql.js").UserError} UserError */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */
/** @typedef {{ clientId: string, authorityHost: string, tenant: string, scopes: string[], graphqlPath: string, taxReminderDays: number }} Config */
/** @typedef {Record<string, string | boolean | ((event: Event) => void) | undefined>} Attributes */
/** @typedef {Node | string | number | null | undefined | false} Child */

const words = new Words(navigator.languages?.length ? navigator.languages : [navigator.language]);
const t = words.t.bind(words);
document.documentElement.lang = words.language;

/** @type {Api} */
let api;
/** @type {Config} */
let config;
/** @type {Workspace} */
let workspace;
const main = /** @type {HTMLElement} */ (document.getElementById("main"));

// --- a little DOM --------------------------------------------------------------------------------

/**
 * @param {string} tag
 * @param {Attributes | null} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Says `message` to screen readers (and shows nothing). @param {string} message */
function announce(message) {
  const live = /** @type {HTMLElement} */ (document.getElementById("live"));
  live.textContent = "";
  setTimeout(() => (live.textContent = message), 50);
}

/** Moves focus to the element `selector` finds (after more rows were read and drawn).
 * @param {string} selector */
function focusRow(selector) {
  const row = /** @type {HTMLElement | null} */ (main.querySelector(selector));
  if (row) {
    row.tabIndex = -1;
    row.focus();
  }
}

/** @param {string} status */
function statusBadge(status) {
  return h("span", { class: `status status-${status}` }, t(`status.${status}`));
}

/** A labelled input whose userErrors show beneath it.
 * @param {string} id @param {string} label @param {Attributes} [attributes] */
function field(id, label, attributes = {}) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name: id, "aria-describedby": `${id}-error`, ...attributes }),
    h("p", { id: `${id}-error`, class: "field-error" }),
  );
}

/** Puts each userError next to the control of the input field it names; the rest in `form`'s
 * summary. True when there were none.
 * @param {HTMLElement} form @param {ReadonlyArray<UserError>} errors */
function showErrors(form, errors) {
  for (const element of form.querySelectorAll(".field-error, .form-error")) element.textContent = "";
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  let first = /** @type {HTMLElement | null} */ (null);
  for (const [name, messages] of byField(errors)) {
    const control = name ? /** @type {HTMLElement | null} */ (form.querySelector(`[name="${name}"]`)) : null;
    const slot = control ? form.querySelector(`#${control.id}-error`) : form.querySelector(".form-error");
    if (slot) slot.textContent = messages.join(" ");
    if (control) {
      control.setAttribute("aria-invalid", "true");
      first = first ?? control;
    }
  }
  first?.focus();
  return errors.length === 0;
}

/** A mutation's userErrors; when the API refused it as a whole (its payload null), its errors.
 * @param {{ userErrors: ReadonlyArray<UserError> } | null | undefined} payload
 * @param {ReadonlyArray<GraphQLError>} errors
 * @returns {ReadonlyArray<UserError>} */
function problemsOf(payload, errors) {
  if (payload) return payload.userErrors;
  return errors.map((error) => ({ field: null, message: error.message, code: error.extensions?.code ?? "ERROR" }));
}

/**
 * A "Show more" button for a list read a page at a time: each press reads the page after the last
 * one (`next`), appends its rows to `into` and moves focus to the first of them; the button goes
 * when no page follows. Null when the first page was the whole list.
 * @param {string} label
 * @param {PageInfo} pageInfo the first page's
 * @param {(after: string) => Promise<{ rows: HTMLElement[], pageInfo: PageInfo }>} next
 * @param {HTMLElement} into
 */
function showMore(label, pageInfo, next, into) {
  if (!pageInfo.hasNextPage || !pageInfo.endCursor) return null;
  let after = pageInfo.endCursor;
  const button = h("button", { type: "button", class: "secondary more" }, label);
  button.addEventListener("click", async () => {
    button.setAttribute("disabled", "");
    /** @type {{ rows: HTMLElement[], pageInfo: PageInfo }} */
    let page;
    try {
      page = await next(after);
    } finally {
      button.removeAttribute("disabled"); // pressed again after a failure, it tries again
    }
    into.append(...page.rows);
    announce(t("more.loaded", { count: page.rows.length }));
    const first = page.rows[0];
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
    if (page.pageInfo.hasNextPage && page.pageInfo.endCursor) {
      after = page.pageInfo.endCursor;
    } else {
      button.remove();
    }
  });
  return button;
}

// --- the workspace ---------------------------------------------------------------------------------

function organization() {
  return workspace.viewer.organization;
}

function locations() {
  return (organization()?.locations.edges ?? []).map((edge) => edge.node);
}

/** @returns {Enrollment[]} */
function enrollments() {
  return locations().flatMap((location) => location.enrollments.edges.map((edge) => edge.node));
}

function programs() {
  return workspace.programs.edges.map((edge) => edge.node);
}

function roles() {
  return new Set(workspace.viewer.roles);
}

const isAdminOfUsers = () => roles().has("GLOBAL_ADMIN") || roles().has("ACCOUNT_ADMIN");

async function loadWorkspace() {
  /** @type {{ data: Workspace }} */
  const { data } = await api.run("ConsoleWorkspace");
  // Programs are few and every page needs them all (the enrollment form's choices): read on.
  let page = data.programs.pageInfo;
  while (page.hasNextPage && page.endCursor) {
    /** @type {{ data: MoreProgramsAnswer }} */
    const { data: more } = await api.run("ConsoleMorePrograms", { after: page.endCursor });
    data.programs.edges.push(...more.programs.edges);
    page = more.programs.pageInfo;
  }
  workspace = data;
}

/** Puts a changed enrollment into the workspace: in its place when shown, else at the end of its
 * location's list when that list is read to its end (enrollments are listed oldest first).
 * @param {Enrollment} changed */
function replaceEnrollment(changed) {
  const location = locations().find((candidate) => candidate.id === changed.location.id);
  if (!location) return;
  const connection = location.enrollments;
  const index = connection.edges.findIndex((edge) => edge.node.id === changed.id);
  if (index >= 0) {
    connection.edges[index] = { ...connection.edges[index], node: changed };
    return;
  }
  connection.totalCount += 1;
  if (!connection.pageInfo.hasNextPage) connection.edges.push({ node: changed });
}

/** The organization's next page of locations, added to the workspace. */
async function moreLocations() {
  const connection = organization()?.locations;
  if (!connection?.pageInfo.endCursor) return;
  /** @type {{ data: MoreLocationsAnswer }} */
  const { data } = await api.run("ConsoleMoreLocations", { after: connection.pageInfo.endCursor });
  const page = data.viewer.organization?.locations;
  if (!page) return;
  connection.edges.push(...page.edges);
  connection.pageInfo = page.pageInfo;
}

/** A location's next page of enrollments, added to the workspace.
 * @param {ReturnType<typeof locations>[number]} location */
async function moreEnrollments(location) {
  const connection = location.enrollments;
  if (!connection.pageInfo.endCursor) return;
  /** @type {{ data: MoreEnrollmentsAnswer }} */
  const { data } = await api.run("ConsoleMoreEnrollments", { locationId: location.id, after: connection.pageInfo.endCursor });
  const node = data.node;
  if (!node || !("enrollments" in node)) return;
  connection.edges.push(...node.enrollments.edges);
  connection.pageInfo = node.enrollments.pageInfo;
}

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
  operations: { label: "nav.operations", show: () => workspace.viewer.isOperator, render: operationsPage },
};

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
  try {
    const content = await page.render();
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

// --- Home ----------------------------------------------------------------------------------------

/** @returns {Promise<Node[]>} */
async function homePage() {
  const viewer = workspace.viewer;
  if (!organization() && !viewer.isOperator) {
    return [h("h1", null, t("home.title")), h("p", null, t("home.noOrganization"))];
  }
  const notices = viewer.invitations.map((invitation) =>
    h(
      "li",
      { class: "notice" },
      h("span", null, t("home.invited", {
        location: invitation.location.name,
        partnerId: invitation.location.partnerId,
        program: invitation.program.name,
        year: String(invitation.fiscalYear),
      })),
      h("button", {
        class: "secondary",
        type: "button",
        "aria-label": t("home.dismissNotice", { program: invitation.program.name, location: invitation.location.name }),
        onclick: async () => {
          /** @type {{ data: DismissAnswer }} */
          const { data } = await api.run("ConsoleDismissInvitation", { invitationId: invitation.id });
          if (data.dismissInvitation && data.dismissInvitation.userErrors.length === 0) {
            viewer.invitations = viewer.invitations.filter((other) => other.id !== invitation.id);
            announce(t("home.dismissed"));
            await render();
          }
        },
      }, t("home.dismiss")),
    ),
  );
  const soon = new Date(Date.now() + config.taxReminderDays * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const waiting = enrollments().filter((enrollment) => enrollment.status === "ACTION_REQUIRED");
  const canComplete = roles().has("INCENTIVES_ADMIN");
  /** @type {PaymentProfilesAnswer | null} */
  const profiles = waiting.length && canComplete ? (await api.run("ConsolePaymentProfiles")).data : null;
  const actions = [
    ...waiting.map((enrollment) => h("li", { "data-action": enrollment.id },
      t("home.actionRequired", {
        program: enrollment.program.name,
        location: enrollment.location.name,
        reason: enrollment.actionRequiredReason ?? "",
      }),
      profiles ? completeForm(enrollment, profiles.viewer.organization?.paymentProfiles ?? []) : null)),
    ...locations()
      .filter((location) => location.taxProfile && location.taxProfile.expiresOn <= soon)
      .map((location) => h("li", null, t("home.taxExpires", { location: location.name, date: words.date(location.taxProfile?.expiresOn) }))),
  ];
  return [
    h("h1", null, t("home.welcome", { name: viewer.displayName ?? "" })),
    h("p", { class: "muted" }, organization() ? `${organization()?.legalName} · ${organization()?.globalPartnerId}` : ""),
    h("section", { class: "card", "aria-labelledby": "notices" },
      h("h2", { id: "notices" }, t("home.notices")),
      notices.length ? h("ul", { class: "plain", id: "notice-list" }, notices) : h("p", null, t("home.noNotices"))),
    h("section", { class: "card", "aria-labelledby": "actions" },
      h("h2", { id: "actions" }, t("home.action")),
      actions.length ? h("ul", null, actions) : h("p", null, t("home.nothingToDo"))),
  ];
}

/** Completes an ACTION_REQUIRED enrollment with a payment profile (`updateEnrollment`): it goes
 * back to validation, or stays and says why (at the field).
 * @param {Enrollment} enrollment
 * @param {ReadonlyArray<{ id: string, name: string, currency: string }>} profiles */
function completeForm(enrollment, profiles) {
  const id = `complete-${enrollment.id}`;
  const form = h("form", { class: "inline-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("label", { for: id }, t("home.paymentFor", { program: enrollment.program.name, location: enrollment.location.name })),
    h("select", { id, name: "paymentProfileId", "aria-describedby": `${id}-error` },
      profiles.map((profile) => h("option", {
        value: profile.id,
        selected: profile.id === enrollment.paymentProfile?.id,
      }, `${profile.name} (${profile.currency})`))),
    h("p", { id: `${id}-error`, class: "field-error" }),
    h("button", { type: "submit" }, t("home.complete")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const paymentProfileId = /** @type {HTMLSelectElement} */ (form.querySelector("select")).value;
    /** @type {{ data: UpdateEnrollmentAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleUpdateEnrollment", { input: { enrollmentId: enrollment.id, paymentProfileId } });
    const updated = data.updateEnrollment?.enrollment;
    if (showErrors(form, problemsOf(data.updateEnrollment, errors)) && updated) {
      announce(t("incentives.submitted", { status: t(`status.${updated.status}`) }));
      replaceEnrollment(updated);
      await render();
    }
  });
  return form;
}

// --- Incentives ----------------------------------------------------------------------------------

/** @returns {Promise<(Node | null)[]>} */
async function incentivesPage() {
  const all = enrollments();
  const byProgram = programs().map((program) => {
    const rows = all.filter((enrollment) => enrollment.program.id === program.id);
    return h("section", { class: "card", "aria-label": program.name },
      h("h3", null, `${program.name} (${program.code})`),
      rows.length ? enrollmentTable(rows) : h("p", { class: "muted" }, t("incentives.none")));
  });
  const connection = organization()?.locations;
  const byLocation = h("table", { id: "locations" },
    h("caption", { class: "muted" }, t("incentives.locationsShown", { shown: locations().length, total: connection?.totalCount ?? 0 })),
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, t("incentives.location")),
      h("th", { scope: "col" }, "PartnerID"),
      h("th", { scope: "col" }, t("incentives.enrollments")))),
    h("tbody", null, locations().map((location) => h("tr", { "data-location": location.id },
      h("th", { scope: "row" }, location.name),
      h("td", null, location.partnerId),
      h("td", null,
        location.enrollments.edges.length
          ? location.enrollments.edges.map((edge) => h("div", null, `${edge.node.program.code} `, statusBadge(edge.node.status)))
          : h("span", { class: "muted" }, t("incentives.none")),
        location.enrollments.pageInfo.hasNextPage ? h("button", {
          type: "button",
          class: "secondary more",
          "aria-label": t("incentives.moreEnrollmentsOf", { location: location.name }),
          onclick: async () => {
            await moreEnrollments(location);
            await render();
            focusRow(`[data-location="${location.id}"]`);
          },
        }, t("incentives.moreEnrollments", { shown: location.enrollments.edges.length, total: location.enrollments.totalCount })) : null)))));
  const moreButton = connection?.pageInfo.hasNextPage ? h("button", {
    type: "button",
    class: "secondary more",
    onclick: async () => {
      const shown = locations().length;
      await moreLocations();
      await render();
      focusRow(`#locations tbody tr:nth-child(${shown + 1})`);
    },
  }, t("incentives.moreLocations")) : null;
  return [
    h("h1", null, t("incentives.title")),
    h("h2", null, t("incentives.byProgram")),
    ...(byProgram.length ? byProgram : [h("p", null, t("incentives.noPrograms"))]),
    h("h2", null, t("incentives.byLocation")),
    byLocation,
    moreButton,
    await enrollForm(),
  ];
}

/** One program's enrollments, a row per location. @param {Enrollment[]} rows */
function enrollmentTable(rows) {
  return h("table", null,
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, t("incentives.location")),
      h("th", { scope: "col" }, t("incentives.fiscalYear")),
      h("th", { scope: "col" }, t("incentives.status")),
      h("th", { scope: "col" }, t("incentives.earningsStart")))),
    h("tbody", null, rows.map((enrollment) => h("tr", { "data-enrollment": enrollment.id },
      h("th", { scope: "row" }, enrollment.location.name),
      h("td", null, String(enrollment.fiscalYear)),
      h("td", null, statusBadge(enrollment.status)),
      h("td", null, words.date(enrollment.earningsStartDate))))));
}

/** The enrollment flow: location and program, their eligibility, the payment profile, submit. */
async function enrollForm() {
  const canEnroll = roles().has("GLOBAL_ADMIN") || roles().has("INCENTIVES_ADMIN");
  if (!canEnroll) return h("div");
  /** @type {{ data: PaymentProfilesAnswer }} */
  const { data } = await api.run("ConsolePaymentProfiles");
  const profiles = data.viewer.organization?.paymentProfiles ?? [];
  const eligibility = h("div", { id: "eligibility", "aria-live": "polite" });
  // The chosen location's tax profile: without a valid one the enrollment waits (ACTION_REQUIRED).
  const taxStatus = h("p", { id: "tax-status", "aria-live": "polite" });
  const showTax = () => {
    const chosen = /** @type {HTMLSelectElement | null} */ (form.querySelector("#locationId"))?.value;
    const tax = locations().find((location) => location.id === chosen)?.taxProfile;
    const today = new Date().toISOString().slice(0, 10);
    taxStatus.replaceChildren(tax && today < tax.expiresOn
      ? t("incentives.taxValid", { taxId: tax.taxId, date: words.date(tax.expiresOn) })
      : h("span", null, t(tax ? "incentives.taxExpired" : "incentives.taxMissing", { date: words.date(tax?.expiresOn) }), " ",
        h("a", { href: "#/profiles" }, t("nav.profiles"))));
  };
  const form = h("form", { id: "enroll-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "row" },
      h("div", null,
        h("label", { for: "locationId" }, t("incentives.location")),
        h("select", { id: "locationId", name: "locationId", "aria-describedby": "locationId-error tax-status", onchange: () => showTax() },
          locations().map((location) => h("option", { value: location.id }, `${location.name} (${location.partnerId})`))),
        h("p", { id: "locationId-error", class: "field-error" })),
      h("div", null,
        h("label", { for: "programId" }, t("incentives.program")),
        h("select", { id: "programId", name: "programId", "aria-describedby": "programId-error" },
          programs().filter((program) => program.status === "ACTIVE").map((program) => h("option", { value: program.id }, program.name))),
        h("p", { id: "programId-error", class: "field-error" })),
      h("button", { type: "button", class: "secondary", onclick: () => checkEligibility(form, eligibility) }, t("incentives.checkEligibility"))),
    taxStatus,
    eligibility,
    h("label", { for: "paymentProfileId" }, t("profiles.payment")),
    h("select", { id: "paymentProfileId", name: "paymentProfileId", "aria-describedby": "paymentProfileId-error" },
      h("option", { value: "" }, "—"),
      profiles.map((profile) => h("option", { value: profile.id }, `${profile.name} (${profile.currency})`))),
    h("p", { id: "paymentProfileId-error", class: "field-error" }),
    h("button", { type: "submit" }, t("incentives.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (/** @type {string} */ name) => /** @type {HTMLSelectElement} */ (form.querySelector(`[name="${name}"]`)).value;
    const input = { locationId: value("locationId"), programId: value("programId"), paymentProfileId: value("paymentProfileId") || null };
    /** @type {{ data: EnrollAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data: answer, errors } = await api.run("ConsoleEnroll", { input });
    const enrolled = answer.enroll?.enrollment;
    if (showErrors(form, problemsOf(answer.enroll, errors)) && enrolled) {
      announce(t("incentives.submitted", { status: t(`status.${enrolled.status}`) }));
      replaceEnrollment(enrolled);
      await render();
    }
  });
  showTax();
  return h("section", { class: "card", "aria-labelledby": "enroll-title" }, h("h2", { id: "enroll-title" }, t("incentives.enroll")), form);
}

/** @param {HTMLElement} form @param {HTMLElement} target */
async function checkEligibility(form, target) {
  const value = (/** @type {string} */ name) => /** @type {HTMLSelectElement} */ (form.querySelector(`[name="${name}"]`)).value;
  /** @type {{ data: EligibilityAnswer }} */
  const { data } = await api.run("ConsoleEligibility", { locationId: value("locationId"), programId: value("programId") });
  const node = data.node;
  if (!node || !("eligibility" in node)) return;
  const result = node.eligibility;
  target.replaceChildren(
    h("p", null, h("strong", null, t(result.eligible ? "incentives.eligible" : "incentives.notEligible"))),
    h("ul", null, result.criteria.map((criterion) => h("li", { class: criterion.met ? "met" : "unmet" },
      `${t(`criterion.${criterion.kind}`)}: ${t(criterion.met ? "incentives.met" : "incentives.notMet")}`))),
  );
}

// --- Payout and tax ------------------------------------------------------------------------------

/** @returns {Promise<Node[]>} */
async function profilesPage() {
  /** @type {{ data: PaymentProfilesAnswer }} */
  const { data } = await api.run("ConsolePaymentProfiles");
  const profiles = data.viewer.organization?.paymentProfiles ?? [];
  const canEdit = roles().has("GLOBAL_ADMIN") || roles().has("INCENTIVES_ADMIN");
  const payment = h("table", { id: "payment-profiles" },
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, t("profiles.name")),
      h("th", { scope: "col" }, t("profiles.currency")),
      h("th", { scope: "col" }, t("profiles.account")))),
    h("tbody", null, profiles.map((profile) => h("tr", null,
      h("th", { scope: "row" }, profile.name),
      h("td", null, profile.currency),
      h("td", null, profile.bankAccountLast4 ? t("profiles.endingIn", { digits: profile.bankAccountLast4 }) : h("span", { class: "muted" }, t("profiles.hidden")))))));
  const tax = h("table", { id: "tax-profiles" },
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, t("incentives.location")),
      h("th", { scope: "col" }, t("profiles.taxId")),
      h("th", { scope: "col" }, t("profiles.expiresOn")))),
    h("tbody", null, locations().map((location) => h("tr", null,
      h("th", { scope: "row" }, location.name),
      h("td", null, location.taxProfile ? location.taxProfile.taxId : h("span", { class: "muted" }, t("profiles.noTax"))),
      h("td", null, words.date(location.taxProfile?.expiresOn))))));
  return [
    h("h1", null, t("profiles.title")),
    h("h2", null, t("profiles.payment")),
    profiles.length ? payment : h("p", null, t("profiles.none")),
    canEdit ? paymentForm() : null,
    h("h2", null, t("profiles.tax")),
    tax,
    canEdit ? taxForm() : null,
  ].filter((node) => node !== null);
}

/**
 * On submit, sends the form's fields as the `input` of the mutation `name`: its problems at their
 * fields, else `saved` is announced and the page drawn again (the workspace read again first when
 * `reload`, for what it shows of the change).
 * @template T
 * @param {HTMLElement} form
 * @param {string} name
 * @param {(data: T) => { userErrors: ReadonlyArray<UserError> } | null | undefined} payloadOf
 * @param {string} saved
 * @param {{ reload: boolean }} options
 */
function submitsInput(form, name, payloadOf, saved, { reload }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (form)));
    /** @type {{ data: T, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run(name, { input });
    if (showErrors(form, problemsOf(payloadOf(data), errors))) {
      announce(saved);
      if (reload) await loadWorkspace();
      await render();
    }
  });
}

function paymentForm() {
  const form = h("form", { id: "payment-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    field("name", t("profiles.name"), { required: true }),
    field("currency", t("profiles.currency"), { required: true, maxlength: "3" }),
    field("bankAccountNumber", t("profiles.bankAccountNumber"), { required: true, autocomplete: "off" }),
    h("button", { type: "submit" }, t("profiles.create")));
  const payload = (/** @type {PaymentAnswer} */ data) => data.createPaymentProfile;
  submitsInput(form, "ConsoleCreatePaymentProfile", payload, t("profiles.created"), { reload: false });
  return h("section", { class: "card", "aria-labelledby": "payment-title" }, h("h3", { id: "payment-title" }, t("profiles.newPayment")), form);
}

function taxForm() {
  const form = h("form", { id: "tax-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("label", { for: "tax-location" }, t("incentives.location")),
    h("select", { id: "tax-location", name: "locationId", "aria-describedby": "tax-location-error" },
      locations().map((location) => h("option", { value: location.id }, location.name))),
    h("p", { id: "tax-location-error", class: "field-error" }),
    field("taxId", t("profiles.taxId"), { required: true }),
    field("country", t("profiles.country"), { required: true, maxlength: "2" }),
    field("expiresOn", t("profiles.expiresOn"), { type: "date", required: true }),
    h("button", { type: "submit" }, t("profiles.setTax")));
  const payload = (/** @type {TaxAnswer} */ data) => data.setTaxProfile;
  submitsInput(form, "ConsoleSetTaxProfile", payload, t("profiles.taxSaved"), { reload: true });
  return h("section", { class: "card", "aria-labelledby": "tax-title" }, h("h3", { id: "tax-title" }, t("profiles.setTax")), form);
}

// --- Users and roles -----------------------------------------------------------------------------

/** @returns {Promise<(Node | null)[]>} */
async function usersPage() {
  /** @type {{ data: RolesAnswer }} */
  const { data } = await api.run("ConsoleRoles", { after: null });
  const assignments = data.viewer.organization?.roleAssignments;
  const rows = h("tbody", null, (assignments?.edges ?? []).map((edge) => assignmentRow(edge.node)));
  const next = async (/** @type {string} */ after) => {
    /** @type {{ data: RolesAnswer }} */
    const { data: more } = await api.run("ConsoleRoles", { after });
    const page = more.viewer.organization?.roleAssignments;
    return { rows: page ? page.edges.map((edge) => assignmentRow(edge.node)) : [], pageInfo: page?.pageInfo ?? { hasNextPage: false } };
  };
  const table = h("table", { id: "role-assignments" },
    h("caption", { class: "muted" }, t("users.count", { count: assignments?.totalCount ?? 0 })),
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, t("users.user")),
      h("th", { scope: "col" }, t("users.role")),
      h("th", { scope: "col" }, t("users.scope")),
      h("td"))),
    rows);
  return [
    h("h1", null, t("users.title")),
    h("h2", null, t("users.assignments")),
    table,
    assignments ? showMore(t("users.more"), assignments.pageInfo, next, rows) : null,
    assignForm(),
  ];
}

/** @typedef {NonNullable<NonNullable<RolesAnswer["viewer"]["organization"]>["roleAssignments"]>["edges"][number]["node"]} Assignment */

/** One role assignment, revoked from its row (the API's refusal said there).
 * @param {Assignment} assignment */
function assignmentRow(assignment) {
  const role = t(`role.${assignment.role}`);
  const row = h("tr", null,
    h("th", { scope: "row" }, `${assignment.user.displayName ?? ""} `, h("span", { class: "muted" }, assignment.user.email ?? "")),
    h("td", null, role),
    h("td", null,
      h("div", null, t("users.locationsScope", { names: assignment.locations ? assignment.locations.map((l) => l.name).join(", ") : t("users.all") })),
      h("div", null, t("users.programsScope", { names: assignment.programs ? assignment.programs.map((p) => p.code).join(", ") : t("users.all") }))),
    h("td", null,
      h("p", { class: "form-error", role: "alert" }),
      h("button", {
        type: "button",
        class: "secondary",
        "aria-label": t("users.revokeFor", { role, name: assignment.user.displayName ?? "" }),
        onclick: async () => {
          /** @type {{ data: RevokeAnswer, errors: ReadonlyArray<GraphQLError> }} */
          const { data, errors } = await api.run("ConsoleRevokeRole", { roleAssignmentId: assignment.id });
          if (showErrors(row, problemsOf(data.revokeRole, errors))) {
            announce(t("users.revoked"));
            row.remove();
          }
        },
      }, t("users.revoke"))));
  return row;
}

function assignForm() {
  const results = h("ul", { id: "directory-results", "aria-live": "polite" });
  const form = h("form", { id: "assign-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "row" },
      field("search", t("users.search"), { type: "search" }),
      h("button", { type: "button", class: "secondary", onclick: search }, t("users.searchButton"))),
    results,
    field("userPrincipalName", t("users.signInName"), { required: true, autocomplete: "off" }),
    h("label", { for: "role" }, t("users.role")),
    h("select", { id: "role", name: "role" },
      ["ACCOUNT_ADMIN", "INCENTIVES_ADMIN", "INCENTIVES_USER"].map((role) => h("option", { value: role }, t(`role.${role}`)))),
    h("fieldset", null, h("legend", null, t("users.locations")),
      locations().map((location) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "locationIds", value: location.id }), ` ${location.name}`))),
    h("fieldset", null, h("legend", null, t("users.programs")),
      programs().map((program) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "programIds", value: program.id }), ` ${program.name}`))),
    h("button", { type: "submit" }, t("users.assignButton")));

  async function search() {
    const text = /** @type {HTMLInputElement} */ (form.querySelector("#search")).value.trim();
    if (!text) return;
    /** @type {{ data: DirectoryAnswer }} */
    const { data } = await api.run("ConsoleDirectory", { search: text });
    const people = data.directoryUsers ?? [];
    results.replaceChildren(...(people.length ? people.map((person) => h("li", null,
      `${person.displayName ?? ""} (${person.userPrincipalName ?? person.mail ?? ""}) `,
      h("button", {
        type: "button",
        class: "secondary",
        "aria-label": t("users.pickFor", { name: person.displayName ?? "" }),
        onclick: () => {
          const input = /** @type {HTMLInputElement} */ (form.querySelector("#userPrincipalName"));
          input.value = person.userPrincipalName ?? "";
          input.focus();
        },
      }, t("users.pick")))) : [h("li", null, t("users.noResults"))]));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = new FormData(/** @type {HTMLFormElement} */ (form));
    const locationIds = values.getAll("locationIds").map(String);
    const programIds = values.getAll("programIds").map(String);
    const input = {
      userPrincipalName: String(values.get("userPrincipalName") ?? "").trim(),
      role: String(values.get("role")),
      locationIds: locationIds.length ? locationIds : null,
      programIds: programIds.length ? programIds : null,
    };
    /** @type {{ data: AssignAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleAssignRole", { input });
    if (showErrors(form, problemsOf(data.assignRole, errors))) {
      announce(t("users.assigned"));
      await render();
    }
  });
  return h("section", { class: "card", "aria-labelledby": "assign-title" }, h("h2", { id: "assign-title" }, t("users.assign")), form);
}

// --- Audit log ---------------------------------------------------------------------------------

/** @typedef {NonNullable<NonNullable<AuditAnswer["viewer"]["organization"]>["auditLog"]>["edges"][number]["node"]} AuditEvent */

/** What an event changed, in words; its ID when the object is gone or hidden from the caller.
 * @param {AuditEvent} event */
function describeTarget(event) {
  const target = event.target;
  if (!target) return event.targetId ? h("span", { class: "muted" }, t("audit.gone")) : "";
  switch (target.__typename) {
    case "Organization":
      return target.legalName;
    case "Location":
      return `${target.name} (${target.partnerId})`;
    case "RoleAssignment":
      return t("audit.assignment", { role: t(`role.${target.role}`), name: target.user.displayName ?? "" });
    case "IncentiveProgram":
      return target.name;
    case "Invitation":
    case "Enrollment":
      return t("audit.programAt", { program: target.program.name, location: target.location.name });
    case "PaymentProfile":
      return target.name;
    case "TaxProfile":
      return t("audit.taxProfile", { taxId: target.taxId });
    default:
      return "";
  }
}

/** @param {AuditEvent} event */
function auditRow(event) {
  const action = t(`action.${event.action}`);
  return h("tr", null,
    h("td", null, words.dateTime(event.at)),
    h("td", null, event.actorDisplayName ?? h("span", { class: "muted" }, t("audit.unknownActor", { id: event.actorObjectId }))),
    h("td", null, action === `action.${event.action}` ? event.action : action),
    h("td", null, describeTarget(event)));
}

/** @returns {Promise<(Node | null)[]>} */
async function auditPage() {
  /** @type {{ data: AuditAnswer }} */
  const { data } = await api.run("ConsoleAuditLog", { after: null });
  const log = data.viewer.organization?.auditLog;
  if (!log) return [h("h1", null, t("audit.title")), h("p", null, t("audit.notAllowed"))];
  const rows = h("tbody", null, log.edges.map((edge) => auditRow(edge.node)));
  const next = async (/** @type {string} */ after) => {
    /** @type {{ data: AuditAnswer }} */
    const { data: more } = await api.run("ConsoleAuditLog", { after });
    const page = more.viewer.organization?.auditLog;
    return { rows: page ? page.edges.map((edge) => auditRow(edge.node)) : [], pageInfo: page?.pageInfo ?? { hasNextPage: false } };
  };
  return [
    h("h1", null, t("audit.title")),
    h("table", { id: "audit-log" },
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, t("audit.at")),
        h("th", { scope: "col" }, t("audit.actor")),
        h("th", { scope: "col" }, t("audit.action")),
        h("th", { scope: "col" }, t("audit.target")))),
      rows),
    showMore(t("audit.more"), log.pageInfo, next, rows),
  ];
}

// --- Operations ----------------------------------------------------------------------------------

/** @type {AgreementKind[]} */
const AGREEMENT_KINDS = ["PARTNER_PROGRAM", "DISTRIBUTOR", "RESELLER"];
/** @type {CriterionKind[]} */
const CRITERIA = ["PARTNER_PROGRAM_AGREEMENT", "DISTRIBUTOR_AGREEMENT", "RESELLER_AGREEMENT", "SOLUTIONS_PARTNER_DESIGNATION"];

/** A labelled select whose userErrors show beneath it.
 * @param {string} id @param {string} name @param {string} label
 * @param {Array<{ value: string, text: string }>} options */
function choice(id, name, label, options) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name, "aria-describedby": `${id}-error` }, options.map((option) => h("option", { value: option.value }, option.text))),
    h("p", { id: `${id}-error`, class: "field-error" }));
}

/** @returns {Promise<(Node | null)[]>} */
async function operationsPage() {
  /** @type {[{ data: QueueAnswer }, { data: OrganizationsAnswer }, { data: MailAnswer }]} */
  const [queue, organizations, mail] = await Promise.all([
    api.run("ConsoleReviewQueue", { after: null }),
    api.run("ConsoleOrganizations", { after: null }),
    api.run("ConsoleMail"),
  ]);
  return [
    h("h1", null, t("ops.title")),
    reviewSection(queue.data.enrollments),
    organizationsSection(organizations.data.organizations),
    programsSection(),
    rolloverSection(),
    mailSection(mail.data.mailQueue),
  ];
}

/** @param {QueueAnswer["enrollments"]} enrollments */
function reviewSection(enrollments) {
  const title = h("h2", { id: "queue-title" }, t("ops.queue"));
  if (!enrollments || enrollments.edges.length === 0) {
    return h("section", { class: "card", "aria-labelledby": "queue-title" }, title, h("p", null, t("ops.emptyQueue")));
  }
  const rows = h("tbody", null, enrollments.edges.map((edge) => reviewRow(edge.node)));
  const next = async (/** @type {string} */ after) => {
    /** @type {{ data: QueueAnswer }} */
    const { data } = await api.run("ConsoleReviewQueue", { after });
    const page = data.enrollments;
    return { rows: page ? page.edges.map((edge) => reviewRow(edge.node)) : [], pageInfo: page?.pageInfo ?? { hasNextPage: false } };
  };
  return h("section", { class: "card", "aria-labelledby": "queue-title" },
    title,
    h("table", { id: "review-queue" },
      h("caption", { class: "muted" }, t("ops.waiting", { count: enrollments.totalCount })),
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, t("incentives.location")),
        h("th", { scope: "col" }, t("incentives.program")),
        h("th", { scope: "col" }, t("incentives.fiscalYear")),
        h("td"))),
      rows),
    showMore(t("ops.moreQueue"), enrollments.pageInfo, next, rows));
}

/** @param {Enrollment} enrollment */
function reviewRow(enrollment) {
  const names = { program: enrollment.program.name, location: enrollment.location.name };
  const row = h("tr", { "data-review": enrollment.id },
    h("th", { scope: "row" }, `${enrollment.location.name} (${enrollment.location.partnerId})`),
    h("td", null, enrollment.program.name),
    h("td", null, String(enrollment.fiscalYear)),
    h("td", null,
      h("p", { class: "form-error", role: "alert" }),
      h("button", { type: "button", "aria-label": t("ops.approveFor", names), onclick: () => review(true) }, t("ops.approve")),
      " ",
      h("label", { for: `reason-${enrollment.id}`, class: "inline" }, t("ops.reason")),
      h("input", { id: `reason-${enrollment.id}`, name: "reason" }),
      h("button", { type: "button", class: "secondary", "aria-label": t("ops.rejectFor", names), onclick: () => review(false) }, t("ops.reject"))));
  /** @param {boolean} approved */
  async function review(approved) {
    const reason = approved ? null : /** @type {HTMLInputElement} */ (row.querySelector("input")).value;
    /** @type {{ data: ReviewAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleReview", { input: { enrollmentId: enrollment.id, approved, reason } });
    const reviewed = data.reviewEnrollment?.enrollment;
    if (showErrors(row, problemsOf(data.reviewEnrollment, errors)) && reviewed) {
      announce(t("ops.reviewed", { status: t(`status.${reviewed.status}`) }));
      row.remove();
    }
  }
  return row;
}

/** Agreements and the Solutions Partner designation, organization by organization.
 * @param {OrganizationsAnswer["organizations"]} organizations */
function organizationsSection(organizations) {
  if (!organizations) return null;
  const rows = h("tbody", null, organizations.edges.map((edge) => organizationRow(edge.node)));
  const next = async (/** @type {string} */ after) => {
    /** @type {{ data: OrganizationsAnswer }} */
    const { data } = await api.run("ConsoleOrganizations", { after });
    const page = data.organizations;
    return { rows: page ? page.edges.map((edge) => organizationRow(edge.node)) : [], pageInfo: page?.pageInfo ?? { hasNextPage: false } };
  };
  return h("section", { class: "card", "aria-labelledby": "organizations-title" },
    h("h2", { id: "organizations-title" }, t("ops.organizations")),
    h("table", { id: "organizations" },
      h("caption", { class: "muted" }, t("ops.organizationsCount", { count: organizations.totalCount })),
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, t("ops.organization")),
        AGREEMENT_KINDS.map((kind) => h("th", { scope: "col" }, t(`agreement.${kind}`))),
        h("th", { scope: "col" }, t("ops.designation")))),
      rows),
    showMore(t("ops.moreOrganizations"), organizations.pageInfo, next, rows));
}

/** One organization: a checkbox per agreement and one for the designation, each saved as it
 * changes (and put back, with the API's reason, when refused).
 * @param {OrganizationRow} organization */
function organizationRow(organization) {
  const row = h("tr", { "data-organization": organization.id });
  /** @param {OrganizationRow} shown */
  const draw = (shown) => {
    const active = new Set(shown.agreements.filter((agreement) => agreement.active).map((agreement) => agreement.kind));
    /** @param {string} label @param {boolean} checked @param {string} name @param {(value: boolean) => Promise<void>} save */
    const toggle = (label, checked, name, save) => h("td", null, h("input", {
      type: "checkbox",
      name,
      "aria-label": label,
      checked,
      onchange: async (/** @type {Event} */ event) => {
        const box = /** @type {HTMLInputElement} */ (event.target);
        box.disabled = true;
        await save(box.checked);
        box.disabled = false;
      },
    }));
    row.replaceChildren(
      h("th", { scope: "row" }, `${shown.legalName} `, h("span", { class: "muted" }, `${shown.globalPartnerId} · ${shown.country}`),
        h("p", { class: "form-error", role: "alert" })),
      ...AGREEMENT_KINDS.map((kind) => toggle(
        t("ops.agreementOf", { agreement: t(`agreement.${kind}`), organization: shown.legalName }),
        active.has(kind),
        "active",
        async (value) => saved(await api.run("ConsoleRecordAgreement", { input: { organizationId: shown.id, kind, active: value } }),
          (/** @type {AgreementAnswer} */ data) => data.recordAgreement))),
      toggle(
        t("ops.designationOf", { organization: shown.legalName }),
        shown.hasSolutionsPartnerDesignation,
        "designated",
        async (value) => saved(await api.run("ConsoleSetDesignation", { input: { organizationId: shown.id, designated: value } }),
          (/** @type {DesignationAnswer} */ data) => data.setSolutionsPartnerDesignation)),
    );
  };
  /**
   * @template T
   * @param {{ data: T, errors: ReadonlyArray<GraphQLError> }} answer
   * @param {(data: T) => { organization?: OrganizationRow | null, userErrors: ReadonlyArray<UserError> } | null | undefined} payloadOf
   */
  const saved = (answer, payloadOf) => {
    const payload = payloadOf(answer.data);
    const problems = problemsOf(payload, answer.errors);
    if (problems.length === 0 && payload?.organization) {
      draw(payload.organization);
      announce(t("ops.recorded", { organization: payload.organization.legalName }));
      return;
    }
    draw(organization);
    showErrors(row, problems);
  };
  draw(organization);
  return row;
}

/** The programs (discontinue one, create one), and invitations for one of them (this fiscal year
 * or the next). */
function programsSection() {
  const year = workspace.currentFiscalYear;
  const active = programs().filter((program) => program.status === "ACTIVE");
  const invite = h("form", { id: "invite-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "row" },
      choice("invite-program", "programId", t("incentives.program"), active.map((program) => ({ value: program.id, text: program.name }))),
      choice("invite-year", "fiscalYear", t("incentives.fiscalYear"), [
        { value: String(year), text: t("ops.fiscalYear", { year: String(year) }) },
        { value: String(year + 1), text: t("ops.fiscalYear", { year: String(year + 1) }) },
      ])),
    h("button", { type: "submit" }, t("ops.issue")),
    h("p", { id: "invite-result", role: "status" }));
  invite.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = new FormData(/** @type {HTMLFormElement} */ (invite));
    const input = { programId: String(values.get("programId") ?? ""), fiscalYear: Number(values.get("fiscalYear")) };
    /** @type {{ data: IssueAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleIssueInvitations", { input });
    const issued = data.issueInvitations;
    if (showErrors(invite, problemsOf(issued, errors)) && issued) {
      /** @type {HTMLElement} */ (invite.querySelector("#invite-result")).textContent = t("ops.issued", { count: issued.invitationsCreated });
    }
  });
  const create = h("form", { id: "program-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "row" },
      field("program-code", t("ops.programCode"), { name: "code", required: true, autocomplete: "off" }),
      field("program-name", t("ops.programName"), { name: "name", required: true, autocomplete: "off" })),
    h("fieldset", null, h("legend", null, t("ops.criteria")),
      CRITERIA.map((kind) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "criteria", value: kind }), ` ${t(`criterion.${kind}`)}`))),
    h("button", { type: "submit" }, t("ops.createProgram")));
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = new FormData(/** @type {HTMLFormElement} */ (create));
    const input = { code: String(values.get("code") ?? "").trim(), name: String(values.get("name") ?? "").trim(), criteria: values.getAll("criteria").map(String) };
    /** @type {{ data: CreateProgramAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleCreateProgram", { input });
    const created = data.createProgram?.program;
    if (showErrors(create, problemsOf(data.createProgram, errors)) && created) {
      workspace.programs.edges.push({ node: created });
      announce(t("ops.programCreated", { program: created.name }));
      await render();
    }
  });
  return h("section", { class: "card", "aria-labelledby": "programs-title" },
    h("h2", { id: "programs-title" }, t("ops.programs")),
    h("table", { id: "programs" },
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, t("incentives.program")),
        h("th", { scope: "col" }, t("incentives.status")),
        h("th", { scope: "col" }, t("ops.criteria")),
        h("td"))),
      h("tbody", null, programs().map((program) => h("tr", { "data-program": program.id },
        h("th", { scope: "row" }, `${program.name} (${program.code})`),
        h("td", null, t(`program.${program.status}`)),
        h("td", null, program.criteria.map((kind) => t(`criterion.${kind}`)).join(", ")),
        h("td", null, program.status === "ACTIVE" ? discontinueButton(program) : null))))),
    h("h3", null, t("ops.newProgram")),
    create,
    h("h3", null, t("ops.invite")),
    invite);
}

/** Discontinues a program once the operator confirms: its enrollments show DISCONTINUED.
 * @param {ReturnType<typeof programs>[number]} program */
function discontinueButton(program) {
  return h("button", {
    type: "button",
    class: "secondary",
    "aria-label": t("ops.discontinueProgram", { program: program.name }),
    onclick: async () => {
      if (!window.confirm(t("ops.confirmDiscontinue", { program: program.name }))) return;
      /** @type {{ data: DiscontinueAnswer, errors: ReadonlyArray<GraphQLError> }} */
      const { data, errors } = await api.run("ConsoleDiscontinueProgram", { programId: program.id });
      const row = /** @type {HTMLElement} */ (main.querySelector(`[data-program="${program.id}"]`));
      const changed = data.discontinueProgram?.program;
      if (showErrors(row, problemsOf(data.discontinueProgram, errors)) && changed) {
        const edges = workspace.programs.edges;
        const index = edges.findIndex((edge) => edge.node.id === changed.id);
        if (index >= 0) edges[index] = { ...edges[index], node: changed };
        announce(t("ops.discontinued", { program: changed.name }));
        await render();
      }
    },
  }, t("ops.discontinue"));
}

function rolloverSection() {
  const form = h("form", { id: "rollover-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    field("fromFiscalYear", t("ops.rolloverFrom"), { type: "number", value: String(workspace.currentFiscalYear - 1) }),
    h("button", { type: "submit" }, t("ops.rolloverRun")),
    h("p", { id: "rollover-result", role: "status" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const year = Number(/** @type {HTMLInputElement} */ (form.querySelector("#fromFiscalYear")).value);
    /** @type {{ data: RollOverAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleRollOver", { fromFiscalYear: year });
    const counts = data.rollOverFiscalYear;
    if (showErrors(form, problemsOf(counts, errors)) && counts) {
      /** @type {HTMLElement} */ (form.querySelector("#rollover-result")).textContent = t("ops.rolloverDone", {
        carried: counts.carried, actionRequired: counts.actionRequired, ineligible: counts.ineligible, inactive: counts.inactive,
      });
    }
  });
  return h("section", { class: "card", "aria-labelledby": "rollover-title" }, h("h2", { id: "rollover-title" }, t("ops.rollover")), form);
}

/** The mail queue's counts and its dead letters, which can be sent again.
 * @param {MailAnswer["mailQueue"]} mail */
function mailSection(mail) {
  if (!mail) return null;
  const section = h("section", { class: "card", "aria-labelledby": "mail-title", id: "mail" });
  const result = h("p", { id: "requeue-result", role: "status" });
  const form = h("form", { id: "requeue-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("table", { id: "dead-letters" },
      h("caption", null, t("ops.deadLetters")),
      h("thead", null, h("tr", null,
        h("td", null, h("input", {
          type: "checkbox",
          "aria-label": t("ops.selectAll"),
          onchange: (/** @type {Event} */ event) => {
            const checked = /** @type {HTMLInputElement} */ (event.target).checked;
            for (const box of form.querySelectorAll("input[name=messageIds]")) /** @type {HTMLInputElement} */ (box).checked = checked;
          },
        })),
        h("th", { scope: "col" }, t("ops.to")), h("th", { scope: "col" }, t("ops.subject")),
        h("th", { scope: "col" }, t("ops.attempts")), h("th", { scope: "col" }, t("ops.error")))),
      h("tbody", null, mail.deadLetters.map((letter) => h("tr", null,
        h("td", null, h("input", { type: "checkbox", name: "messageIds", value: letter.id, "aria-label": t("ops.selectLetter", { to: letter.toAddress, subject: letter.subject }) })),
        h("td", null, letter.toAddress), h("td", null, letter.subject), h("td", null, words.number(letter.attempts)), h("td", null, letter.lastError ?? ""))))),
    h("button", { type: "submit" }, t("ops.requeue")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const messageIds = new FormData(/** @type {HTMLFormElement} */ (form)).getAll("messageIds").map(String);
    if (messageIds.length === 0) {
      showErrors(form, [{ field: null, message: t("ops.pickLetters"), code: "INVALID" }]);
      return;
    }
    /** @type {{ data: RequeueAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await api.run("ConsoleRequeueMail", { messageIds });
    const requeued = data.requeueMail;
    if (showErrors(form, problemsOf(requeued, errors)) && requeued) {
      /** @type {{ data: MailAnswer }} */
      const { data: now } = await api.run("ConsoleMail");
      const redrawn = mailSection(now.mailQueue);
      if (redrawn) section.replaceWith(redrawn);
      const status = redrawn?.querySelector("#requeue-result");
      if (status) status.textContent = t("ops.requeued", { count: requeued.requeued });
    }
  });
  section.append(
    h("h2", { id: "mail-title" }, t("ops.mail")),
    h("p", null, t("ops.mailCounts", { pending: mail.pending, sent: mail.sent, dead: mail.dead })),
    mail.deadLetters.length ? form : h("p", null, t("ops.noDeadLetters")),
    result);
  return section;
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
  api.subscribe("ConsoleEnrollmentChanges", (/** @type {EnrollmentChange} */ data) => {
    const changed = data.enrollmentStatusChanged;
    announce(t("live.updated", { program: changed.program.name, location: changed.location.name, status: t(`status.${changed.status}`) }));
    replaceEnrollment(changed);
    if (currentPage() === "operations") updateQueue(changed);
    else if (currentPage() === "home" || currentPage() === "incentives") redrawSoon();
  });
  if (organization() && !workspace.viewer.isOperator) {
    api.subscribe("ConsoleInvitations", (/** @type {InvitationEvent} */ data) => {
      const invitation = data.invitationReceived;
      announce(t("live.invited", { program: invitation.program.name, location: invitation.location.name }));
      const notices = workspace.viewer.invitations;
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
  const auth = { clientId: config.clientId, authority, redirectUri: new URL("./", location.href).href, navigateToLoginRequestUrl: true };
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
  config = await (await fetch("config.json")).json();
  const document_ = await (await fetch("operations.graphql")).text();
  const msal = await signInClient(config);
  const redirected = await msal.handleRedirectPromise();
  const account = redirected?.account ?? msal.getAllAccounts()[0];
  if (!account) {
    main.replaceChildren(h("p", null, t("signingIn")));
    await msal.loginRedirect({ scopes: config.scopes, redirectStartPage: location.href });
    return;
  }
  msal.setActiveAccount(account);
  const token = async () => {
    try {
      return (await msal.acquireTokenSilent({ scopes: config.scopes, account })).accessToken;
    } catch (error) {
      await msal.acquireTokenRedirect({ scopes: config.scopes, account });
      throw error;
    }
  };
  api = new Api(new URL(config.graphqlPath, location.href).href, token, document_);
  await loadWorkspace();
  const who = /** @type {HTMLElement} */ (document.getElementById("who"));
  const labels = [...roles()].map((role) => t(`role.${role}`));
  if (workspace.viewer.isOperator) labels.push(t("role.OPERATOR"));
  who.replaceChildren(
    h("span", null, `${workspace.viewer.displayName ?? account.username} · ${labels.join(", ")}`),
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
