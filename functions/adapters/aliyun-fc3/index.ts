import type { RelayRequest } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { ALIYUN_FC_HEADERS } from '../shared/platform-headers';
import { clientScheme, eventBody, eventHeaders, eventLimits, isObject, optionalText, queryFromParams, requiredMethod, requiredText, simpleResult, type Json } from '../event/translate';

// Aliyun Function Compute 3.0, HTTP trigger: `handler(event, context)` where event is a Buffer of JSON.
// https://help.aliyun.com/zh/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function

const MB = 1024 * 1024;

export const aliyunFc3: EventPlatform = {
  name: 'Aliyun FC 3.0',
  // 32 MB is the documented synchronous request limit. The response limit is not stated separately
  // (unconfirmed): we assume the same 32 MB, counted after base64.
  limits: eventLimits('Aliyun FC 3.0', 32 * MB, 32 * MB),

  // `rawPath` and `requestContext.http` without Lambda's `version: "2.0"` (FC3 sends "v1").
  recognises: (event) => typeof event.rawPath === 'string' && isObject(event.requestContext) && isObject(event.requestContext.http) && event.version !== '2.0',

  toRequest(event: Json): RelayRequest {
    const http = (event.requestContext as Json).http as Json;
    const headers = eventHeaders(event.headers, ALIYUN_FC_HEADERS);
    return {
      method: requiredMethod(http.method, 'requestContext.http.method'),
      path: requiredText(event.rawPath, 'rawPath'),
      // FC3 passes the query already parsed, with repeated keys joined by commas (`a=1&a=2` arrives as
      // `a: "1,2"`); it cannot be told from `a=1,2`, so it is forwarded as one value.
      query: queryFromParams(event.queryParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded, this.limits.maxRequestBytes),
      // Documented as the caller's address (X-Forwarded-For and X-Real-IP "may be forged"):
      // https://www.alibabacloud.com/help/en/functioncompute/fc/how-to-get-the-original-ip-address-of-the-client-when-the-http-trigger-calls-the-built-in-runtime-function
      clientIp: optionalText(http.sourceIp, 'requestContext.http.sourceIp', 64),
      protocol: clientScheme(headers),
    };
  },

  toResult: simpleResult,
};
