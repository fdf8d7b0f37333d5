// @ts-check
// The invitation the email's "Get Started" opens (#/invitations/{number}, reached from
// /console/invitations/{number}): the migration step first when the organization has not
// completed it, then the enrollment form with its location and program chosen for an Incentives
// admin covering it, or who can enroll it for anyone else (rule 22).

import { announce, h, problemsOf, showErrors } from "./dom.js";
import { enrollForm } from "./incentives.js";
import { app, t } from "./state.js";
import { roles } from "./workspace.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleInvitationQuery} InvitationAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleCompleteMigrationMutation} MigrationAnswer */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */

/** The invitation's global ID from the number in the email's link. The console ships with the API,
 * so it may know how the API spells IDs (api/graphql/ids.py: base64url of "Invitation:{number}").
 * @param {string} number */
export function invitationId(number) {
  return btoa(`Invitation:${number}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {string} number @returns {Promise<(Node | null)[]>} */
export async function invitationPage(number) {
  /** @type {{ data: InvitationAnswer }} */
  const { data } = await app.api.run("ConsoleInvitation", { id: invitationId(number) });
  const invitation = data.node && "viewerCanEnroll" in data.node ? data.node : null;
  const organization = data.viewer.organization;
  if (!invitation || !organization) {
    return [h("h1", null, t("invitation.title")), h("p", null, t("invitation.notFound"))];
  }
  const heading = [
    h("h1", null, t("invitation.title")),
    h("p", { id: "invitation-summary" }, t("home.invited", {
      location: invitation.location.name,
      partnerId: invitation.location.partnerId,
      program: invitation.program.name,
      year: String(invitation.fiscalYear),
    })),
  ];
  if (!organization.migrationCompleted) return [...heading, migrationStep(organization.id)];
  if (invitation.viewerCanEnroll) {
    return [...heading, await enrollForm({ locationId: invitation.location.id, programId: invitation.program.id })];
  }
  return [...heading, whoCanEnroll(invitation.incentivesAdmins)];
}

/** Enrolling needs the migration (rule 19): those who may complete it do it here; others are told who.
 * @param {string} organizationId */
function migrationStep(organizationId) {
  const held = roles();
  const mayComplete = held.has("GLOBAL_ADMIN") || held.has("ACCOUNT_ADMIN") || held.has("INCENTIVES_ADMIN");
  if (!mayComplete) {
    return h("section", { class: "card", id: "migration-step" }, h("h2", null, t("invitation.migrationTitle")), h("p", null, t("invitation.migrationByOthers")));
  }
  const form = h("form", { novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("button", { type: "submit" }, t("invitation.completeMigration")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    /** @type {{ data: MigrationAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await app.api.run("ConsoleCompleteMigration", { input: { organizationId } });
    if (showErrors(form, problemsOf(data.completeMigration, errors))) {
      announce(t("invitation.migrated"));
      await app.render(true);
    }
  });
  return h("section", { class: "card", id: "migration-step", "aria-labelledby": "migration-title" },
    h("h2", { id: "migration-title" }, t("invitation.migrationTitle")),
    h("p", null, t("invitation.migrationFirst")),
    form);
}

/** @param {ReadonlyArray<{ displayName?: string | null, email?: string | null }>} admins */
function whoCanEnroll(admins) {
  const body = admins.length
    ? [h("p", null, t("invitation.enrolledBy")),
      h("ul", { id: "covering-admins" }, admins.map((admin) =>
        h("li", null, [admin.displayName, admin.email].filter(Boolean).join(" · ") || t("invitation.unnamed"))))]
    : [h("p", { id: "no-admin" }, t("invitation.assignAdmin"))];
  return h("section", { class: "card", id: "who-can-enroll", "aria-labelledby": "who-title" },
    h("h2", { id: "who-title" }, t("invitation.whoCanEnroll")), ...body);
}
