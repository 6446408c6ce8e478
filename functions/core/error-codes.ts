// The relay's own failures. They always come back as JSON with an `x-relay-error` header, so a mini
// program can tell them apart from whatever the backend answers (which may also be a 4xx/5xx JSON).
// Kept free of Node APIs: the mini program client shares this table.
export const ERROR_STATUS = {
  BAD_PATH: 400,
  BAD_BODY: 400,
  BAD_EVENT: 400,
  BAD_HEADER: 400,
  /** Node's HTTP parser refused the request (local server, web function). */
  BAD_REQUEST: 400,
  PATH_NOT_ALLOWED: 403,
  APPID_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** The request body stopped arriving for longer than RELAY_BODY_TIMEOUT_MS. */
  REQUEST_TIMEOUT: 408,
  BODY_TOO_LARGE: 413,
  EXPECTATION_FAILED: 417,
  HEADERS_TOO_LARGE: 431,
  /** Never seen by a client: logged when the client went away before the answer (nginx's 499). */
  CLIENT_CLOSED: 499,
  CONFIG: 500,
  INTERNAL: 500,
  UPSTREAM_UNREACHABLE: 502,
  /** The upstream answered with something that is not a valid final HTTP response. */
  BAD_UPSTREAM: 502,
  RESPONSE_TOO_LARGE: 502,
  /** Caught by the servers' last-resort net: a fault no rule foresaw, answered rather than left hanging. */
  UNEXPECTED: 502,
  BUSY: 503,
  UPSTREAM_TIMEOUT: 504,
} as const;

