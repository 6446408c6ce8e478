import { ERROR_STATUS } from '../functions/core/error-codes';

/** Relay error codes (what `x-relay-error` carries), plus the client's own. */
export type RelayErrorCode = keyof typeof ERROR_STATUS | 'NETWORK' | 'TIMEOUT' | 'ABORTED' | 'BAD_STATUS';

/** What WeChat's `fail` callback gives: `errMsg`, and on newer base libraries `errno`. */
export interface WxFailure {
  errMsg?: string;
  errno?: number;
}

/**
 * A call that did not get the backend's answer: the relay refused or failed (`fromRelay`, told by its
 * `x-relay-error` header), the network failed (`NETWORK`, `TIMEOUT`, `ABORTED`; statusCode 0, with
 * WeChat's `errno` and `errMsg`), or a download got a non-2xx status (`BAD_STATUS`).
 */
export class RelayError extends Error {
  readonly code: RelayErrorCode;
  readonly statusCode: number;
  readonly requestId: string | undefined;
  readonly fromRelay: boolean;
  /** WeChat's error number, for network failures (https://developers.weixin.qq.com/miniprogram/dev/framework/usability/PublicErrno.html). */
  readonly errno: number | undefined;
  /** WeChat's own message, for network failures. */
  readonly errMsg: string | undefined;

  constructor(code: RelayErrorCode, statusCode: number, message: string, requestId?: string, failure: WxFailure = {}, fromRelay = isRelayCode(code)) {
    super(message);
    // Restores instanceof for code compiled down to ES5 by the mini program's build.
    Object.setPrototypeOf(this, RelayError.prototype);
    this.name = 'RelayError';
    this.code = code;
    this.statusCode = statusCode;
    this.requestId = requestId;
    this.fromRelay = fromRelay;
    this.errno = failure.errno;
    this.errMsg = failure.errMsg;
  }
}

/** One of the relay's codes as this client knows them (own properties only: not `toString`). */
function isRelayCode(code: string): boolean {
  return Object.prototype.hasOwnProperty.call(ERROR_STATUS, code);
}

export function headerValue(header: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const key = Object.keys(header).filter((candidate) => candidate.toLowerCase() === name)[0];
  return key === undefined ? undefined : String(header[key]);
}

/**
 * The relay's own error, known only by its `x-relay-error` header: a backend's answer is never taken for
 * one, whatever its status and body. `body` (read only when the header is there) supplies the message
 * and request id.
 */
export function relayErrorOf(statusCode: number, header: Record<string, unknown> | undefined, body: () => unknown): RelayError | undefined {
  const code = headerValue(header, 'x-relay-error');
  if (!code) return undefined;
  const data = body();
  const detail = data && typeof data === 'object' ? (data as { error?: { message?: string; requestId?: string } }).error : undefined;
  const message = (detail && detail.message) || `the relay answered ${statusCode} ${code}`;
  // From the relay whatever the code: a newer relay may send one this client does not list.
  return new RelayError(code as RelayErrorCode, statusCode, message, (detail && detail.requestId) || headerValue(header, 'x-request-id'), {}, true);
}

export function networkError(failure: WxFailure): RelayError {
  const message = (failure && failure.errMsg) || 'request:fail';
  const code = /abort/i.test(message) ? 'ABORTED' : /time ?out|timed out|超时/i.test(message) ? 'TIMEOUT' : 'NETWORK';
  return new RelayError(code, 0, message, undefined, { errno: failure && failure.errno, errMsg: failure && failure.errMsg });
}

/** errno for a domain missing from the mini program's request/download/upload lists ("url not in domain list"). */
const NOT_IN_DOMAIN_LIST = 600002;

/**
 * A failure worth one more try: the network dropped the call. Never an abort, a timeout (the time is
 * spent), a relay refusal, or a URL WeChat will not call (not in the domain lists: trying again cannot help).
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof RelayError) || error.code !== 'NETWORK') return false;
  if (error.errno === NOT_IN_DOMAIN_LIST) return false;
  return !/domain list|invalid url|not allowed|forbidden/i.test(error.errMsg || error.message);
}
