import type { RelayRequest } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { TENCENT_SCF_HEADERS } from '../shared/platform-headers';
import { clientScheme, eventBody, eventHeaders, eventLimits, isObject, optionalText, queryFromParams, requiredMethod, requiredText, simpleResult, type Json } from '../event/translate';

// Tencent SCF event functions, called by an API Gateway trigger (integrated response) or a function URL.
// Both send `{httpMethod, path, headers, queryString, body, isBase64Encoded}`; the gateway adds
// `requestContext`. Both take `{isBase64Encoded, statusCode, headers, body}` back.
// https://cloud.tencent.com/document/product/583/12513 (API Gateway trigger)
// https://cloud.tencent.com/document/product/583/96099 (function URL)

const MB = 1024 * 1024;

export const tencentScf: EventPlatform = {
  name: 'Tencent SCF',
  // Synchronous events and responses are limited to 6 MB each, and a binary response counts as base64.
  limits: eventLimits('Tencent SCF', 6 * MB, 6 * MB),

  // The minimal function URL event is `{headers, httpMethod, path}` (no queryString without a query, no
  // body on GET, never isBase64Encoded: 583/96099), so what is always there decides. It comes last
  // but for Aliyun's gateway, after every runtime with a more specific mark, and as an object.
  recognises: (event, fromBuffer) => !fromBuffer && typeof event.httpMethod === 'string' && typeof event.path === 'string',

  toRequest(event: Json): RelayRequest {
    const context = isObject(event.requestContext) ? event.requestContext : {};
    // The caller's address: the gateway's requestContext.sourceIp (583/12513), a function URL's
    // x-scf-remote-addr header (583/96099), which SCF sets and clients cannot (583/40678).
    const remoteAddr = isObject(event.headers) ? event.headers['x-scf-remote-addr'] : undefined;
    const headers = eventHeaders(event.headers, TENCENT_SCF_HEADERS);
    return {
      method: requiredMethod(event.httpMethod, 'httpMethod'),
      path: requiredText(event.path, 'path'),
      query: scfQuery(event.queryString ?? event.queryStringParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded, this.limits.maxRequestBytes),
      clientIp: optionalText(context.sourceIp, 'requestContext.sourceIp', 64) || optionalText(remoteAddr, 'x-scf-remote-addr', 64),
      protocol: clientScheme(headers),
    };
  },

  toResult: simpleResult,
};

/**
 * The gateway sends `queryString` parsed (`{a: "1", b: ["2", "3"]}`). For function URLs the docs do not
 * say (unconfirmed): a string is taken as the raw query, an object as parsed.
 */
function scfQuery(value: unknown): string {
  if (typeof value === 'string') return requiredText(value, 'queryString', 64 * 1024).replace(/^\?/, '');
  return queryFromParams(value);
}
