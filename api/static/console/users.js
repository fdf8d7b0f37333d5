// @ts-check
// Users and roles: assignments, the directory, assigning and revoking.

import { announce, field, h, pagesOf, problemsOf, showErrors, showMore } from "./dom.js";
import { app, t } from "./state.js";
import { locations, programs } from "./workspace.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRolesQuery} RolesAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleDirectoryQuery} DirectoryAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleAssignRoleMutation} AssignAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRevokeRoleMutation} RevokeAnswer */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */

/** @returns {Promise<(Node | null)[]>} */
export async function usersPage() {
  /** @type {{ data: RolesAnswer }} */
  const { data } = await app.api.run("ConsoleRoles", { after: null });
  const assignments = data.viewer.organization?.roleAssignments;
  const rows = h("tbody", null, (assignments?.edges ?? []).map((edge) => assignmentRow(edge.node)));
  const next = pagesOf("ConsoleRoles", (/** @type {RolesAnswer} */ data) => data.viewer.organization?.roleAssignments, assignmentRow);
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
export function assignmentRow(assignment) {
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
          const { data, errors } = await app.api.run("ConsoleRevokeRole", { roleAssignmentId: assignment.id });
          if (showErrors(row, problemsOf(data.revokeRole, errors))) {
            announce(t("users.revoked"));
            row.remove();
          }
        },
      }, t("users.revoke"))));
  return row;
}

export function assignForm() {
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
    const { data } = await app.api.run("ConsoleDirectory", { search: text });
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
    const { data, errors } = await app.api.run("ConsoleAssignRole", { input });
    if (showErrors(form, problemsOf(data.assignRole, errors))) {
      announce(t("users.assigned"));
      await app.render();
    }
  });
  return h("section", { class: "card", "aria-labelledby": "assign-title" }, h("h2", { id: "assign-title" }, t("users.assign")), form);
}
