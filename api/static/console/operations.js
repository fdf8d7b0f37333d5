// @ts-check
// Operations: the review queue, organizations, programs and invitations, the roll-forward, mail.

import { announce, choice, field, h, pagesOf, problemsOf, showErrors, showMore } from "./dom.js";
import { app, main, t, words } from "./state.js";
import { programs } from "./workspace.js";

/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleEnrollmentFragment} Enrollment */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleReviewQueueQuery} QueueAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleReviewMutation} ReviewAnswer */
/** @typedef {import("../../../clients/generated/ts/graphql").ConsoleRollOverMutation} RollOverAnswer */
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
/** @typedef {import("../../../clients/generated/ts/graphql").AgreementKind} AgreementKind */
/** @typedef {import("./graphql.js").UserError} UserError */
/** @typedef {import("./graphql.js").GraphQLError} GraphQLError */

/** @type {AgreementKind[]} */
export const AGREEMENT_KINDS = ["PARTNER_PROGRAM", "DISTRIBUTOR", "RESELLER"];
/** @type {CriterionKind[]} */
export const CRITERIA = ["PARTNER_PROGRAM_AGREEMENT", "DISTRIBUTOR_AGREEMENT", "RESELLER_AGREEMENT", "SOLUTIONS_PARTNER_DESIGNATION"];


/** @returns {Promise<(Node | null)[]>} */
export async function operationsPage() {
  /** @type {[{ data: QueueAnswer }, { data: OrganizationsAnswer }, { data: MailAnswer }]} */
  const [queue, organizations, mail] = await Promise.all([
    app.api.run("ConsoleReviewQueue", { after: null }),
    app.api.run("ConsoleOrganizations", { after: null }),
    app.api.run("ConsoleMail"),
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
export function reviewSection(enrollments) {
  const title = h("h2", { id: "queue-title" }, t("ops.queue"));
  if (!enrollments || enrollments.edges.length === 0) {
    return h("section", { class: "card", "aria-labelledby": "queue-title" }, title, h("p", null, t("ops.emptyQueue")));
  }
  const rows = h("tbody", null, enrollments.edges.map((edge) => reviewRow(edge.node)));
  const next = pagesOf("ConsoleReviewQueue", (/** @type {QueueAnswer} */ data) => data.enrollments, reviewRow);
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
export function reviewRow(enrollment) {
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
    const { data, errors } = await app.api.run("ConsoleReview", { input: { enrollmentId: enrollment.id, approved, reason } });
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
export function organizationsSection(organizations) {
  if (!organizations) return null;
  const rows = h("tbody", null, organizations.edges.map((edge) => organizationRow(edge.node)));
  const next = pagesOf("ConsoleOrganizations", (/** @type {OrganizationsAnswer} */ data) => data.organizations, organizationRow);
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
export function organizationRow(organization) {
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
        async (value) => saved(await app.api.run("ConsoleRecordAgreement", { input: { organizationId: shown.id, kind, active: value } }),
          (/** @type {AgreementAnswer} */ data) => data.recordAgreement))),
      toggle(
        t("ops.designationOf", { organization: shown.legalName }),
        shown.hasSolutionsPartnerDesignation,
        "designated",
        async (value) => saved(await app.api.run("ConsoleSetDesignation", { input: { organizationId: shown.id, designated: value } }),
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
export function programsSection() {
  const year = app.workspace.currentFiscalYear;
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
    const { data, errors } = await app.api.run("ConsoleIssueInvitations", { input });
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
    const { data, errors } = await app.api.run("ConsoleCreateProgram", { input });
    const created = data.createProgram?.program;
    if (showErrors(create, problemsOf(data.createProgram, errors)) && created) {
      app.workspace.programs.edges.push({ node: created });
      announce(t("ops.programCreated", { program: created.name }));
      await app.render();
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
export function discontinueButton(program) {
  return h("button", {
    type: "button",
    class: "secondary",
    "aria-label": t("ops.discontinueProgram", { program: program.name }),
    onclick: async () => {
      if (!window.confirm(t("ops.confirmDiscontinue", { program: program.name }))) return;
      /** @type {{ data: DiscontinueAnswer, errors: ReadonlyArray<GraphQLError> }} */
      const { data, errors } = await app.api.run("ConsoleDiscontinueProgram", { programId: program.id });
      const row = /** @type {HTMLElement} */ (main.querySelector(`[data-program="${program.id}"]`));
      const changed = data.discontinueProgram?.program;
      if (showErrors(row, problemsOf(data.discontinueProgram, errors)) && changed) {
        const edges = app.workspace.programs.edges;
        const index = edges.findIndex((edge) => edge.node.id === changed.id);
        if (index >= 0) edges[index] = { ...edges[index], node: changed };
        announce(t("ops.discontinued", { program: changed.name }));
        await app.render();
      }
    },
  }, t("ops.discontinue"));
}

export function rolloverSection() {
  const form = h("form", { id: "rollover-form", novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    field("fromFiscalYear", t("ops.rolloverFrom"), { type: "number", value: String(app.workspace.currentFiscalYear - 1) }),
    h("button", { type: "submit" }, t("ops.rolloverRun")),
    h("p", { id: "rollover-result", role: "status" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const year = Number(/** @type {HTMLInputElement} */ (form.querySelector("#fromFiscalYear")).value);
    /** @type {{ data: RollOverAnswer, errors: ReadonlyArray<GraphQLError> }} */
    const { data, errors } = await app.api.run("ConsoleRollOver", { fromFiscalYear: year });
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
export function mailSection(mail) {
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
    const { data, errors } = await app.api.run("ConsoleRequeueMail", { messageIds });
    const requeued = data.requeueMail;
    if (showErrors(form, problemsOf(requeued, errors)) && requeued) {
      /** @type {{ data: MailAnswer }} */
      const { data: now } = await app.api.run("ConsoleMail");
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
