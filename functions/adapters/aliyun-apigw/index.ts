import type { RelayRequest } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { ALIYUN_APIGW_HEADERS } from '../shared/platform-headers';
import { clientScheme, eventBody, eventHeaders, eventLimits, isObject, queryFromParams, requiredMethod, requiredText, simpleResult, type Json } from '../event/translate';

// Aliyun API Gateway in front of an FC event function (what `serverless-aliyun-function-compute`
// deploys for `http` events): the event is a Buffer of JSON and the answer must be exactly
// `{isBase64Encoded, statusCode, headers, body}`, or the gateway answers 503.
// https://help.aliyun.com/document_detail/54788.html (API Gateway trigger event format)

const MB = 1024 * 1024;

export const aliyunApiGateway: EventPlatform = {
  name: 'Aliyun API Gateway',
  // "事件函数响应 Body 最大 6 MB, 请求 Body 最大 8 MB" (API Gateway limits, https://help.aliyun.com/document_detail/29484.html);
  // FC's own 32 MB never binds behind it.
  limits: eventLimits('Aliyun API Gateway', 8 * MB, 6 * MB),

  // `queryParameters`/`pathParameters` are in its documented event, and FC hands it over as a Buffer
  // (either is enough, so a minimal event still counts); no requestContext, which Tencent's gateway sends.
  recognises: (event, fromBuffer) =>
    typeof event.httpMethod === 'string' && typeof event.path === 'string' && !isObject(event.requestContext) && (fromBuffer || 'queryParameters' in event),

  toRequest(event: Json): RelayRequest {
    const headers = eventHeaders(event.headers, ALIYUN_APIGW_HEADERS);
    return {
      method: requiredMethod(event.httpMethod, 'httpMethod'),
      path: requiredText(event.path, 'path'),
      query: queryFromParams(event.queryParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded, this.limits.maxRequestBytes),
      // The gateway vouches for no caller address in this event (only an opt-in CaClientIp parameter
      // the API owner maps), so none is sent on rather than one a client could forge.
      // https://help.aliyun.com/zh/api-gateway/traditional-api-gateway/information-items-of-system-input-parameters
      clientIp: undefined,
      protocol: clientScheme(headers),
    };
  },

  toResult: simpleResult,
};
