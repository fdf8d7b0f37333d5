// @ts-check
// Home: the caller's notices and what needs their action.

import { announce, h, problemsOf, showErrors } from "./dom.js";
import { app, t, words } from "./state.js";
import { enrollments, locations, organization, replaceEnrollment, roles } from "./workspace.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsolePaymentProfilesQuery} PaymentProfilesAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleDismissInvitationMutation} DismissAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleUpdateEnrollmentMutation} UpdateEnrollmentAnswer */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */

/** @returns {Promise<Node[]>} */
export async function homePage() {
  const viewer = app.workspace.viewer;
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
          const { data } = await app.api.run("ConsoleDismissInvitation", { invitationId: invitation.id });
          if (data.dismissInvitation && data.dismissInvitation.userErrors.length === 0) {
            viewer.invitations = viewer.invitations.filter((other) => other.id !== invitation.id);
            announce(t("home.dismissed"));
            await app.render();
          }
        },
      }, t("home.dismiss")),
    ),
  );
  const soon = new Date(Date.now() + app.config.taxReminderDays * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const waiting = enrollments().filter((enrollment) => enrollment.status === "ACTION_REQUIRED");
  const canComplete = roles().has("INCENTIVES_ADMIN");
  /** @type {PaymentProfilesAnswer | null} */
  const profiles = waiting.length && canComplete ? (await app.api.run("ConsolePaymentProfiles")).data : null;
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
export function completeForm(enrollment, profiles) {
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
    const { data, errors } = await app.api.run("ConsoleUpdateEnrollment", { input: { enrollmentId: enrollment.id, paymentProfileId } });
    const updated = data.updateEnrollment?.enrollment;
    if (showErrors(form, problemsOf(data.updateEnrollment, errors)) && updated) {
      announce(t("incentives.submitted", { status: t(`status.${updated.status}`) }));
      replaceEnrollment(updated);
      await app.render();
    }
  });
  return form;
}
