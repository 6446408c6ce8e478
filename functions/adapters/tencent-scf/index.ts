import type { RelayRequest } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { clientScheme, eventBody, eventHeaders, eventLimits, firstHeader, isObject, queryFromParams, simpleResult, text, type Json } from '../event/translate';

// Tencent SCF event functions, called by an API Gateway trigger (integrated response) or a function URL.
// Both send `{httpMethod, path, headers, queryString, body, isBase64Encoded}`; the gateway adds
// `requestContext`. Both take `{isBase64Encoded, statusCode, headers, body}` back.
// https://cloud.tencent.com/document/product/583/12513 (API Gateway trigger)
// https://cloud.tencent.com/document/product/583/96099 (function URL)

const MB = 1024 * 1024;
const INTERNAL_HEADERS = ['x-scf-', 'x-api-', 'x-anonymous-consumer', 'x-qualifier'];

export const tencentScf: EventPlatform = {
  name: 'Tencent SCF',
  // Synchronous events and responses are limited to 6 MB each, and a binary response counts as base64.
  limits: eventLimits('Tencent SCF', 6 * MB, 6 * MB),

  recognises: (event) =>
    typeof event.httpMethod === 'string' &&
    typeof event.path === 'string' &&
    ('queryString' in event || (isObject(event.requestContext) && 'serviceId' in event.requestContext)),

  toRequest(event: Json): RelayRequest {
    const context = isObject(event.requestContext) ? event.requestContext : {};
    const rawHeaders = eventHeaders(event.headers, []);
    // Added by SCF and the gateway (request ids, the caller's address, auth results).
    const headers = eventHeaders(event.headers, INTERNAL_HEADERS);
    return {
      method: (event.httpMethod as string).toUpperCase(),
      path: event.path as string,
      query: scfQuery(event.queryString ?? event.queryStringParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded),
      // The gateway reports the caller in requestContext; a function URL in x-scf-remote-addr.
      clientIp: text(context.sourceIp) || firstHeader(rawHeaders, 'x-scf-remote-addr'),
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
  if (typeof value === 'string') return value.replace(/^\?/, '');
  return queryFromParams(value);
}
