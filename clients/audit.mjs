// The GraphQL-over-HTTP audit (graphql-http's serverAudits) against a running server, with a bearer
// token on every request. Prints each audit; exits 1 when any MUST ("error") or SHOULD ("warn")
// audit fails. MAY audits that are not met ("notice") are printed and allowed.
//
//   AUDIT_URL=http://127.0.0.1:8000/graphql AUDIT_TOKEN=... node clients/audit.mjs
import { serverAudits } from 'graphql-http';

const url = process.env.AUDIT_URL;
const token = process.env.AUDIT_TOKEN;
if (!url || !token) {
  console.error('Set AUDIT_URL (the /graphql address) and AUDIT_TOKEN (an access token).');
  process.exit(2);
}

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const audits = serverAudits({ url, fetchFn: fetchWithToken });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of audits) {
  const result = await audit.fn();
  counts[result.status] += 1;
  const reason = result.status === 'ok' ? '' : ` -- ${result.reason}`;
  console.log(`${result.status.padEnd(6)} ${audit.id} ${audit.name}${reason}`);
}
console.log(
  `audits: ${audits.length}; ok ${counts.ok}, MAY not met ${counts.notice}, ` +
    `SHOULD failed ${counts.warn}, MUST failed ${counts.error}`,
);
process.exit(counts.warn + counts.error > 0 ? 1 : 0);
