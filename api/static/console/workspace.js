// @ts-check
// The caller's workspace (ConsoleWorkspace) and what changes it in place: more pages, live events.

import { app } from "./state.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleWorkspaceQuery} Workspace */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMoreLocationsQuery} MoreLocationsAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMoreEnrollmentsQuery} MoreEnrollmentsAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleMoreProgramsQuery} MoreProgramsAnswer */

export function organization() {
  return app.workspace.viewer.organization;
}

export function locations() {
  return (organization()?.locations.edges ?? []).map((edge) => edge.node);
}

/** @returns {Enrollment[]} */
export function enrollments() {
  return locations().flatMap((location) => location.enrollments.edges.map((edge) => edge.node));
}

export function programs() {
  return app.workspace.programs.edges.map((edge) => edge.node);
}

export function roles() {
  return new Set(app.workspace.viewer.roles);
}

export const isAdminOfUsers = () => roles().has("GLOBAL_ADMIN") || roles().has("ACCOUNT_ADMIN");

export async function loadWorkspace() {
  /** @type {{ data: Workspace }} */
  const { data } = await app.api.run("ConsoleWorkspace");
  // Programs are few and every page needs them all (the enrollment form's choices): read on.
  let page = data.programs.pageInfo;
  while (page.hasNextPage && page.endCursor) {
    /** @type {{ data: MoreProgramsAnswer }} */
    const { data: more } = await app.api.run("ConsoleMorePrograms", { after: page.endCursor });
    data.programs.edges.push(...more.programs.edges);
    page = more.programs.pageInfo;
  }
  app.workspace = data;
}

/** Puts a changed enrollment into the workspace: in its place when shown, else at the end of its
 * location's list when that list is read to its end (enrollments are listed oldest first).
 * @param {Enrollment} changed */
export function replaceEnrollment(changed) {
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
export async function moreLocations() {
  const connection = organization()?.locations;
  if (!connection?.pageInfo.endCursor) return;
  /** @type {{ data: MoreLocationsAnswer }} */
  const { data } = await app.api.run("ConsoleMoreLocations", { after: connection.pageInfo.endCursor });
  const page = data.viewer.organization?.locations;
  if (!page) return;
  connection.edges.push(...page.edges);
  connection.pageInfo = page.pageInfo;
}

/** A location's next page of enrollments, added to the workspace.
 * @param {ReturnType<typeof locations>[number]} location */
export async function moreEnrollments(location) {
  const connection = location.enrollments;
  if (!connection.pageInfo.endCursor) return;
  /** @type {{ data: MoreEnrollmentsAnswer }} */
  const { data } = await app.api.run("ConsoleMoreEnrollments", { locationId: location.id, after: connection.pageInfo.endCursor });
  const node = data.node;
  if (!node || !("enrollments" in node)) return;
  connection.edges.push(...node.enrollments.edges);
  connection.pageInfo = node.enrollments.pageInfo;
}
