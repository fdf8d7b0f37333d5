// @ts-check
// Payout and tax: payment and tax profiles.

import { announce, field, h, problemsOf, showErrors } from "./dom.js";
import { app, t, words } from "./state.js";
import { locations, roles } from "./workspace.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsolePaymentProfilesQuery} PaymentProfilesAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleSetTaxProfileMutation} TaxAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleCreatePaymentProfileMutation} PaymentAnswer */
/** @typedef {import("./graphql.js").UserError} UserError */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */

/** @returns {Promise<Node[]>} */
export async function profilesPage() {
  /** @type {{ data: PaymentProfilesAnswer }} */
  const { data } = await app.api.run("ConsolePaymentProfiles");
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
 * fields, else `saved` is announced, `done` told (to put the change in the workspace) and the page
 * drawn again.
 * @template T
 * @param {HTMLElement} form
 * @param {string} name
 * @param {(data: T) => { userErrors: ReadonlyArray<UserError> } | null | undefined} payloadOf
 * @param {string} saved
 * @param {(data: T, input: Record<string, FormDataEntryValue>) => void} [done]
 */
export function submitsInput(form, name, payloadOf, saved, done) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = Object.fromEntries(new FormData(/** @type {HTMLFormElement} */ (form)));
    /** @type {{ data: T, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await app.api.run(name, { input });
    if (showErrors(form, problemsOf(payloadOf(data), errors))) {
      announce(saved);
      done?.(data, input);
      await app.render();
    }
  });
}

export function paymentForm() {
  const form = h("form", { id: "payment-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    field("name", t("profiles.name"), { required: true }),
    field("currency", t("profiles.currency"), { required: true, maxlength: "3" }),
    field("bankAccountNumber", t("profiles.bankAccountNumber"), { required: true, autocomplete: "off" }),
    h("button", { type: "submit" }, t("profiles.create")));
  const payload = (/** @type {PaymentAnswer} */ data) => data.createPaymentProfile;
  submitsInput(form, "ConsoleCreatePaymentProfile", payload, t("profiles.created"));
  return h("section", { class: "card", "aria-labelledby": "payment-title" }, h("h3", { id: "payment-title" }, t("profiles.newPayment")), form);
}

export function taxForm() {
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
  // The location's new current tax profile, in place (Home's reminders and the enrollment form read it).
  const done = (/** @type {TaxAnswer} */ data, /** @type {Record<string, FormDataEntryValue>} */ input) => {
    const location = locations().find((candidate) => candidate.id === input.locationId);
    if (location && data.setTaxProfile?.taxProfile) location.taxProfile = data.setTaxProfile.taxProfile;
  };
  submitsInput(form, "ConsoleSetTaxProfile", payload, t("profiles.taxSaved"), done);
  return h("section", { class: "card", "aria-labelledby": "tax-title" }, h("h3", { id: "tax-title" }, t("profiles.setTax")), form);
}
