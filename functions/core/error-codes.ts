// The relay's own failures. They always come back as JSON with an `x-relay-error` header, so a mini
// program can tell them apart from whatever the backend answers (which may also be a 4xx/5xx JSON).
// Kept free of Node APIs: the mini program client shares this table.
export const ERROR_STATUS = {
  BAD_PATH: 400,
  BAD_BODY: 400,
  BAD_EVENT: 400,
  PATH_NOT_ALLOWED: 403,
  APPID_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  CONFIG: 500,
  INTERNAL: 500,
  UPSTREAM_UNREACHABLE: 502,
  RESPONSE_TOO_LARGE: 502,
  BUSY: 503,
  UPSTREAM_TIMEOUT: 504,
} as const;

