import type { RelayRequest } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { clientScheme, eventBody, eventHeaders, eventLimits, firstHeader, isObject, queryFromParams, simpleResult, type Json } from '../event/translate';

// Aliyun API Gateway in front of an FC event function (what `serverless-aliyun-function-compute`
// deploys for `http` events): the event is a Buffer of JSON and the answer must be exactly
// `{isBase64Encoded, statusCode, headers, body}`, or the gateway answers 503.
// https://help.aliyun.com/document_detail/54788.html (API Gateway trigger event format)

const MB = 1024 * 1024;

export const aliyunApiGateway: EventPlatform = {
  name: 'Aliyun API Gateway',
  // Not in our platform notes: API Gateway documents an 8 MB request body; we assume the same for the
  // response (unconfirmed). FC's own 32 MB never binds behind it.
  limits: eventLimits('Aliyun API Gateway', 8 * MB, 8 * MB),

  // `queryParameters` is Aliyun's spelling (Tencent and AWS say `queryString...`); no requestContext.
  recognises: (event) => typeof event.httpMethod === 'string' && typeof event.path === 'string' && 'queryParameters' in event && !isObject(event.requestContext),

  toRequest(event: Json): RelayRequest {
    const rawHeaders = eventHeaders(event.headers, []);
    // `x-ca-*` are the gateway's own signature and trace headers.
    const headers = eventHeaders(event.headers, ['x-ca-', 'x-fc-']);
    return {
      method: (event.httpMethod as string).toUpperCase(),
      path: event.path as string,
      query: queryFromParams(event.queryParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded),
      // The gateway reports the caller in X-Real-IP when it reports it at all (unconfirmed); otherwise
      // the core passes on whatever X-Forwarded-For the gateway added.
      clientIp: firstHeader(rawHeaders, 'x-real-ip'),
      protocol: clientScheme(headers),
    };
  },

  toResult: simpleResult,
};
