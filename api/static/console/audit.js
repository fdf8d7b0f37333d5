// @ts-check
// The audit log, in words.

import { app, t, words } from "./state.js";
import { h, pagesOf, showMore } from "./dom.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleAuditLogQuery} AuditAnswer */

/** @typedef {NonNullable<NonNullable<AuditAnswer["viewer"]["organization"]>["auditLog"]>["edges"][number]["node"]} AuditEvent */

/** What an event changed, in words; its ID when the object is gone or hidden from the caller.
 * @param {AuditEvent} event */
export function describeTarget(event) {
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
export function auditRow(event) {
  const action = t(`action.${event.action}`);
  return h("tr", null,
    h("td", null, words.dateTime(event.at)),
    h("td", null, event.actorDisplayName ?? h("span", { class: "muted" }, t("audit.unknownActor", { id: event.actorObjectId }))),
    h("td", null, action === `action.${event.action}` ? event.action : action),
    h("td", null, describeTarget(event)));
}

/** @returns {Promise<(Node | null)[]>} */
export async function auditPage() {
  /** @type {{ data: AuditAnswer }} */
  const { data } = await app.api.run("ConsoleAuditLog", { after: null });
  const log = data.viewer.organization?.auditLog;
  if (!log) return [h("h1", null, t("audit.title")), h("p", null, t("audit.notAllowed"))];
  const rows = h("tbody", null, log.edges.map((edge) => auditRow(edge.node)));
  const next = pagesOf("ConsoleAuditLog", (/** @type {AuditAnswer} */ data) => data.viewer.organization?.auditLog, auditRow);
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
