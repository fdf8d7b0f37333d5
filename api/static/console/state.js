// @ts-check
// What every page shares: the console's words, the page's main element, and the signed-in app
// (its API client, configuration and workspace, set by console.js as it starts).

import { Words } from "./i18n.js";

/** @typedef {import("./graphql.js").Api} Api */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleWorkspaceQuery} Workspace */
/** @typedef {{ clientId: string, authorityHost: string, tenant: string, scopes: string[], graphqlPath: string, documentId: string, taxReminderDays: number }} Config */

export const words = new Words(navigator.languages?.length ? navigator.languages : [navigator.language]);
export const t = words.t.bind(words);
document.documentElement.lang = words.language;

export const main = /** @type {HTMLElement} */ (document.getElementById("main"));

export const app = {
  /** @type {Api} */
  api: /** @type {any} */ (null),
  /** @type {Config} */
  config: /** @type {any} */ (null),
  /** @type {Workspace} */
  workspace: /** @type {any} */ (null),
  /** Draws the current page again (focusing its heading when asked): console.js's router. */
  render: /** @type {(focus?: boolean) => Promise<void>} */ (async () => {}),
};
