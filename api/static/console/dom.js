// @ts-check
// A little DOM: elements, labelled fields, userErrors at their fields, paging buttons.

import { byField } from "./graphql.js";
import { app, main, t } from "./state.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsolePageInfoFragment} PageInfo */
/** @typedef {import("./graphql.js").UserError} UserError */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */
/** @typedef {Record<string, string | boolean | ((event: Event) => void) | undefined>} Attributes */
/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * @param {string} tag
 * @param {Attributes | null} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes, ...children) {
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
export function announce(message) {
  const live = /** @type {HTMLElement} */ (document.getElementById("live"));
  live.textContent = "";
  setTimeout(() => (live.textContent = message), 50);
}

/** Moves focus to the element `selector` finds (after more rows were read and drawn).
 * @param {string} selector */
export function focusRow(selector) {
  const row = /** @type {HTMLElement | null} */ (main.querySelector(selector));
  if (row) {
    row.tabIndex = -1;
    row.focus();
  }
}

/** @param {string} status */
export function statusBadge(status) {
  return h("span", { class: `status status-${status}` }, t(`status.${status}`));
}

/** A labelled input whose userErrors show beneath it.
 * @param {string} id @param {string} label @param {Attributes} [attributes] */
export function field(id, label, attributes = {}) {
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
export function showErrors(form, errors) {
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
export function problemsOf(payload, errors) {
  if (payload) return payload.userErrors;
  return errors.map((error) => ({ field: null, message: error.message, code: error.extensions?.code ?? "ERROR" }));
}

/**
 * The `next` of `showMore` for a list the operation `name` reads a page at a time (its `$after`):
 * the page's rows drawn by `row`, and where it ends.
 * @template T, N
 * @param {string} name
 * @param {(data: T) => { edges: ReadonlyArray<{ node: N }>, pageInfo: PageInfo } | null | undefined} connectionOf
 * @param {(node: N) => HTMLElement} row
 * @returns {(after: string) => Promise<{ rows: HTMLElement[], pageInfo: PageInfo }>}
 */
export function pagesOf(name, connectionOf, row) {
  return async (after) => {
    /** @type {{ data: T }} */
    const { data } = await app.api.run(name, { after });
    const page = connectionOf(data);
    return { rows: page ? page.edges.map((edge) => row(edge.node)) : [], pageInfo: page?.pageInfo ?? { hasNextPage: false } };
  };
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
export function showMore(label, pageInfo, next, into) {
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


/** A labelled select whose userErrors show beneath it.
 * @param {string} id @param {string} name @param {string} label
 * @param {Array<{ value: string, text: string }>} options */
export function choice(id, name, label, options) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name, "aria-describedby": `${id}-error` }, options.map((option) => h("option", { value: option.value }, option.text))),
    h("p", { id: `${id}-error`, class: "field-error" }));
}
