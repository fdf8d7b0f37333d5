// @ts-check
// Incentives: enrollments by program and by location, eligibility, the enrollment form.

import { announce, focusRow, h, problemsOf, showErrors, statusBadge } from "./dom.js";
import { app, t, words } from "./state.js";
import { enrollments, locations, moreEnrollments, moreLocations, organization, programs, replaceEnrollment, roles } from "./workspace.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEligibilityQuery} EligibilityAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsolePaymentProfilesQuery} PaymentProfilesAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollMutation} EnrollAnswer */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */

/** @returns {Promise<(Node | null)[]>} */
export async function incentivesPage() {
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
            await app.render();
            focusRow(`[data-location="${location.id}"]`);
          },
        }, t("incentives.moreEnrollments", { shown: location.enrollments.edges.length, total: location.enrollments.totalCount })) : null)))));
  const moreButton = connection?.pageInfo.hasNextPage ? h("button", {
    type: "button",
    class: "secondary more",
    onclick: async () => {
      const shown = locations().length;
      await moreLocations();
      await app.render();
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
export function enrollmentTable(rows) {
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

/** The enrollment flow: location and program, their eligibility, the payment profile, submit.
 * `chosen`: an invitation's location and program, picked already; once enrolled, the Incentives
 * page shows the enrollment among the others.
 * @param {{ locationId: string, programId: string } | null} [chosen] */
export async function enrollForm(chosen = null) {
  const canEnroll = roles().has("GLOBAL_ADMIN") || roles().has("INCENTIVES_ADMIN");
  if (!canEnroll) return h("div");
  /** @type {{ data: PaymentProfilesAnswer }} */
  const { data } = await app.api.run("ConsolePaymentProfiles");
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
          locations().map((location) => h("option", { value: location.id, selected: location.id === chosen?.locationId }, `${location.name} (${location.partnerId})`))),
        h("p", { id: "locationId-error", class: "field-error" })),
      h("div", null,
        h("label", { for: "programId" }, t("incentives.program")),
        h("select", { id: "programId", name: "programId", "aria-describedby": "programId-error" },
          programs().filter((program) => program.status === "ACTIVE").map((program) => h("option", { value: program.id, selected: program.id === chosen?.programId }, program.name))),
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
    const { data: answer, errors } = await app.api.run("ConsoleEnroll", { input });
    const enrolled = answer.enroll?.enrollment;
    if (showErrors(form, problemsOf(answer.enroll, errors)) && enrolled) {
      announce(t("incentives.submitted", { status: t(`status.${enrolled.status}`) }));
      replaceEnrollment(enrolled);
      if (chosen) window.location.hash = "#/incentives";
      else await app.render();
    }
  });
  showTax();
  return h("section", { class: "card", "aria-labelledby": "enroll-title" }, h("h2", { id: "enroll-title" }, t("incentives.enroll")), form);
}

/** @param {HTMLElement} form @param {HTMLElement} target */
export async function checkEligibility(form, target) {
  const value = (/** @type {string} */ name) => /** @type {HTMLSelectElement} */ (form.querySelector(`[name="${name}"]`)).value;
  /** @type {{ data: EligibilityAnswer }} */
  const { data } = await app.api.run("ConsoleEligibility", { locationId: value("locationId"), programId: value("programId") });
  const node = data.node;
  if (!node || !("eligibility" in node)) return;
  const result = node.eligibility;
  target.replaceChildren(
    h("p", null, h("strong", null, t(result.eligible ? "incentives.eligible" : "incentives.notEligible"))),
    h("ul", null, result.criteria.map((criterion) => h("li", { class: criterion.met ? "met" : "unmet" },
      `${t(`criterion.${criterion.kind}`)}: ${t(criterion.met ? "incentives.met" : "incentives.notMet")}`))),
  );
}
