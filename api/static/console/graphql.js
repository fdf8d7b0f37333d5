// @ts-check
// The console's calls to the API: operations.graphql named by its trusted document id (config.json's
// `documentId`, never its text) and an operation name, over HTTP (POST, JSON, the bearer token MSAL
// gives); subscriptions the same way over graphql-transport-ws (graphql-ws's client).
// Every call starts a W3C trace (`traceparent`): the API's spans of that call share its trace id,
// which the console keeps as `lastTraceId` for an operator to look up.

/** @typedef {{ message: string, path?: ReadonlyArray<string | number>, extensions?: { code?: string } }} GraphQLError */
/** @typedef {{ field?: ReadonlyArray<string> | null, message: string, code: string }} UserError */

export class ApiError extends Error {
  /** @param {string} message @param {ReadonlyArray<GraphQLError>} errors */
  constructor(message, errors) {
    super(message);
    this.errors = errors;
  }
}

export class Api {
  /**
   * @param {string} endpoint the API's /graphql URL
   * @param {() => Promise<string>} token a fresh access token for the API's scope
   * @param {string} documentId the id of operations.graphql, every operation of the console, in the
   *   server's trusted documents (`sha256:<hex>`; the server says it: crypto.subtle is for https only)
   */
  constructor(endpoint, token, documentId) {
    this.endpoint = endpoint;
    this.token = token;
    this.documentId = documentId;
    /** @type {any} */
    this.socket = null;
    /** @type {string | null} */
    this.lastTraceId = null;
  }

  /**
   * Runs the operation `name`: its data, with the errors of fields the caller may not read (each
   * such field is null in the data). A request refused as a whole throws ApiError.
   * @template T
   * @param {string} name
   * @param {Record<string, unknown>} [variables]
   * @returns {Promise<{ data: T, errors: ReadonlyArray<GraphQLError> }>}
   */
  async run(name, variables = {}) {
    const trace = newTraceparent();
    this.lastTraceId = trace.traceId;
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        Authorization: `Bearer ${await this.token()}`,
        traceparent: trace.header,
      },
      body: JSON.stringify({ documentId: this.documentId, operationName: name, variables }),
    });
    /** @type {{ data?: T | null, errors?: GraphQLError[] }} */
    const answer = await response.json();
    const errors = answer.errors ?? [];
    if (answer.data == null) {
      throw new ApiError(errors.map((e) => e.message).join(" ") || `HTTP ${response.status}`, errors);
    }
    return { data: answer.data, errors };
  }

  /**
   * Calls `next` with each event of the subscription `name` until the returned function is called.
   * @template T
   * @param {string} name
   * @param {(data: T) => void} next
   * @returns {() => void}
   */
  subscribe(name, next) {
    if (this.socket === null) {
      const url = new URL(this.endpoint);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      // @ts-ignore: graphql-ws's UMD build (vendored, pinned) defines the global `graphqlWs`
      this.socket = globalThis.graphqlWs.createClient({
        url: url.href,
        lazy: true,
        retryAttempts: Infinity,
        connectionParams: async () => ({ Authorization: `Bearer ${await this.token()}` }),
        // graphql-ws checks that a subscribe payload has a `query` string before it writes the
        // message: the payload carries an empty one, left out here as the message is written.
        jsonMessageReplacer: dropPlaceholderQuery,
      });
    }
    return this.socket.subscribe(
      { documentId: this.documentId, operationName: name, query: "" },
      {
        /** @param {{ data?: T }} event */
        next: (event) => event.data && next(event.data),
        error: (/** @type {unknown} */ error) => console.warn(`subscription ${name}:`, error),
        complete: () => {},
      },
    );
  }
}

/**
 * A new sampled W3C traceparent (version 00, random trace and parent ids, flags 01): the console is
 * an operator's tool, its few calls worth a trace each.
 * @returns {{ header: string, traceId: string }}
 */
export function newTraceparent() {
  /** @param {number} bytes */
  const hex = (bytes) =>
    Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  const traceId = hex(16);
  return { header: `00-${traceId}-${hex(8)}-01`, traceId };
}

/**
 * JSON.stringify's replacer for graphql-ws's messages: a payload naming a document by id is sent
 * without the placeholder `query` (the server reads `documentId` as over HTTP).
 * @this {Record<string, unknown>}
 * @param {string} key
 * @param {unknown} value
 */
function dropPlaceholderQuery(key, value) {
  return key === "query" && typeof this.documentId === "string" ? undefined : value;
}

/**
 * The userErrors of a mutation keyed by the input field they name (the last element of `field`),
 * the ones naming no field under "".
 * @param {ReadonlyArray<UserError>} errors
 * @returns {Map<string, string[]>}
 */
export function byField(errors) {
  const found = new Map();
  for (const error of errors) {
    const name = error.field && error.field.length ? error.field[error.field.length - 1] : "";
    found.set(name, [...(found.get(name) ?? []), error.message]);
  }
  return found;
}
