// The SPA's data layer, as far as the API goes: each page's operation named by its trusted document id
// (the client preset's sha256 hash, `persistedDocuments` in codegen.ts; never the document's text),
// its answer used field by field. `tsc` (strict) checks that every field read, variable passed and
// enum value compared exists in schema.graphql as used; CI also runs it, compiled, against the API
// with INCENTIVES_TRUSTED_DOCUMENTS=enforce (tests/clients/test_typescript_client.py).
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import {
  AssignRoleBySignInNameDocument,
  CompleteEnrollmentDocument,
  DashboardDocument,
  DismissInvitationDocument,
  EnrollDocument,
  EnrollmentFormDocument,
  HomeInvitationsDocument,
  PickDirectoryUserDocument,
  RecentChangesDocument,
  SetTaxProfileDocument,
  type EnrollmentDetailsFragment,
  type EnrollmentStatus,
  type Role,
  type UserErrorFieldsFragment,
} from "../generated/ts/graphql";

export interface Api {
  endpoint: string;
  token: string;
}

interface GraphqlResponse<TResult> {
  data?: TResult | null;
  errors?: ReadonlyArray<{ message: string; extensions?: { code?: string } }>;
}

/** The document's id in the API's trusted documents (GraphQL over HTTP, appendix A): `sha256:<hex>`. */
export function documentId(document: TypedDocumentNode<unknown, never>): string {
  const hash = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (hash === undefined) throw new Error("a document without its persisted hash: run graphql-codegen");
  return `sha256:${hash}`;
}

export async function request<TResult, TVariables>(
  api: Api,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const response = await fetch(api.endpoint, {
    method: "POST",
    headers: {
      Accept: "application/graphql-response+json, application/json",
      Authorization: `Bearer ${api.token}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ documentId: documentId(document), variables }),
  });
  const body = (await response.json()) as GraphqlResponse<TResult>;
  const [first] = body.errors ?? [];
  if (first !== undefined || body.data == null) {
    throw new Error(first?.message ?? `HTTP ${response.status} without data`);
  }
  return body.data;
}

function refusal(userErrors: ReadonlyArray<UserErrorFieldsFragment>): Error | null {
  const [first] = userErrors;
  if (first === undefined) return null;
  const where = first.field?.join(".") ?? "input";
  return new Error(`${first.code} at ${where}: ${first.message}`);
}

// --- the dashboard --------------------------------------------------------------------------------

export interface DashboardRow {
  partnerId: string;
  location: string;
  program: string;
  fiscalYear: number;
  status: EnrollmentStatus;
  needsAttention: boolean;
}

export async function dashboardRows(api: Api): Promise<DashboardRow[]> {
  const { viewer } = await request(api, DashboardDocument, {});
  const locations = viewer.organization?.locations.edges ?? [];
  return locations.flatMap(({ node: location }) =>
    location.enrollments.edges.map(({ node: enrollment }) => ({
      partnerId: location.partnerId,
      location: location.name,
      program: `${enrollment.program.code} (${enrollment.program.name})`,
      fiscalYear: enrollment.fiscalYear,
      status: enrollment.status,
      needsAttention: enrollment.status === "ACTION_REQUIRED",
    })),
  );
}

// --- the home page's invitations --------------------------------------------------------------------

export async function homeNotices(api: Api): Promise<{ greeting: string; notices: string[] }> {
  const { currentFiscalYear, viewer } = await request(api, HomeInvitationsDocument, {});
  const notices = viewer.invitations
    .filter((invitation) => invitation.fiscalYear === currentFiscalYear && invitation.channel === "EMAIL")
    .map(({ program, location }) => `${program.name}: ${location.name} (${location.partnerId}) is invited`);
  return { greeting: `Welcome, ${viewer.displayName ?? "partner"}`, notices };
}

export async function dismissNotice(api: Api, invitationId: string): Promise<string> {
  const answer = await request(api, DismissInvitationDocument, { invitationId });
  const payload = answer.dismissInvitation;
  const failed = refusal(payload?.userErrors ?? []);
  if (failed !== null || payload?.invitation == null) throw failed ?? new Error("not dismissed");
  return payload.invitation.id;
}

// --- enrolling ------------------------------------------------------------------------------------

export async function enrollmentForm(
  api: Api,
  locationId: string,
  programId: string,
): Promise<{ eligible: boolean; unmet: string[]; taxValidUntil: Date | null; bankAccounts: string[] }> {
  const { location, viewer } = await request(api, EnrollmentFormDocument, { locationId, programId });
  if (location?.__typename !== "Location") throw new Error(`no location ${locationId}`);
  const bankAccounts = (viewer.organization?.paymentProfiles ?? []).map(
    (profile) => `${profile.name} (${profile.currency}, ...${profile.bankAccountLast4 ?? "????"})`,
  );
  return {
    eligible: location.eligibility.eligible,
    unmet: location.eligibility.criteria.filter((criterion) => !criterion.met).map((c) => c.kind),
    taxValidUntil: location.taxProfile ? new Date(location.taxProfile.expiresOn) : null,
    bankAccounts,
  };
}

export async function setTaxProfile(
  api: Api,
  locationId: string,
  taxId: string,
  expiresOn: Date,
): Promise<string> {
  const input = { locationId, taxId, country: "DE", expiresOn: expiresOn.toISOString().slice(0, 10) };
  const payload = (await request(api, SetTaxProfileDocument, { input })).setTaxProfile;
  const failed = refusal(payload?.userErrors ?? []);
  if (failed !== null || payload?.taxProfile == null) throw failed ?? new Error("no tax profile");
  return payload.taxProfile.expiresOn;
}

function enrolled(
  payload: { enrollment?: EnrollmentDetailsFragment | null; userErrors: UserErrorFieldsFragment[] } | null | undefined,
): { id: string; status: EnrollmentStatus; earningFrom: Date | null; todo: string | null } {
  const failed = refusal(payload?.userErrors ?? []);
  const enrollment = payload?.enrollment;
  if (failed !== null || enrollment == null) throw failed ?? new Error("not enrolled");
  const earningFrom = enrollment.earningsStartDate == null ? null : new Date(enrollment.earningsStartDate);
  return { id: enrollment.id, status: enrollment.status, earningFrom, todo: enrollment.actionRequiredReason ?? null };
}

export async function enroll(api: Api, locationId: string, programId: string, paymentProfileId?: string) {
  const input = paymentProfileId === undefined ? { locationId, programId } : { locationId, programId, paymentProfileId };
  return enrolled((await request(api, EnrollDocument, { input })).enroll);
}

export async function completeEnrollment(api: Api, enrollmentId: string, paymentProfileId: string) {
  const answer = await request(api, CompleteEnrollmentDocument, { enrollmentId, paymentProfileId });
  return enrolled(answer.updateEnrollment);
}

// --- assigning a role by sign-in name ---------------------------------------------------------------

export async function assignRoleByName(api: Api, search: string, role: Role, locationIds?: string[]) {
  const { directoryUsers } = await request(api, PickDirectoryUserDocument, { search, first: 5 });
  const picked = (directoryUsers ?? []).find((user) => user.userPrincipalName != null);
  if (picked?.userPrincipalName == null) throw new Error(`nobody in the directory matches ${search}`);
  const variables = { userPrincipalName: picked.userPrincipalName, role, locationIds: locationIds ?? null };
  const payload = (await request(api, AssignRoleBySignInNameDocument, variables)).assignRole;
  const failed = refusal(payload?.userErrors ?? []);
  if (failed !== null || payload?.roleAssignment == null) throw failed ?? new Error("not assigned");
  const { user, locations } = payload.roleAssignment;
  const scope = locations === null || locations === undefined ? "the whole organization" : locations.map((l) => l.name).join(", ");
  return `${user.displayName ?? user.objectId} is ${payload.roleAssignment.role} for ${scope}`;
}

export async function recentChanges(api: Api): Promise<Array<{ when: Date; what: string }>> {
  const { viewer } = await request(api, RecentChangesDocument, {});
  const events = viewer.organization?.auditLog?.edges ?? [];
  return events.map(({ node }) => ({ when: new Date(node.at), what: `${node.action} by ${node.actorObjectId}` }));
}
