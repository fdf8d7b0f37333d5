// Apollo Client 3 with its persisted-query link (sha256 of the document as graphql-js prints it)
// against the served API; tests/clients/test_apollo_persisted_queries.py runs it and reads what it
// prints: one JSON line, each query's outcome and the bodies its requests carried.
//
//   node apollo_persisted.mjs <clients folder> '{"url", "token", "queries": [text, ...]}'
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";

const [clients, argument] = process.argv.slice(2);
const require = createRequire(path.join(clients, "package.json"));
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client/core");
const { createPersistedQueryLink } = require("@apollo/client/link/persisted-queries");
const { url, token, queries } = JSON.parse(argument);

const sent = [];
async function recording(input, init) {
  const body = JSON.parse(init.body);
  sent.push({ query: "query" in body, hash: body.extensions?.persistedQuery?.sha256Hash ?? null });
  return fetch(input, init);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function client() {
  const http = new HttpLink({ uri: url, fetch: recording, headers: { Authorization: `Bearer ${token}` } });
  return new ApolloClient({
    link: createPersistedQueryLink({ sha256 }).concat(http),
    cache: new InMemoryCache({ addTypename: false }),
    defaultOptions: { query: { fetchPolicy: "no-cache" } },
  });
}

const outcomes = [];
for (const text of queries) {
  sent.length = 0;
  let outcome;
  try {
    const result = await client().query({ query: gql(text) });
    outcome = { data: result.data };
  } catch (error) {
    const errors = error.graphQLErrors?.length ? error.graphQLErrors : error.networkError?.result?.errors;
    outcome = { codes: (errors ?? []).map((e) => e.extensions?.code ?? e.message) };
  }
  outcomes.push({ ...outcome, sent: [...sent] });
}
console.log(JSON.stringify(outcomes));
