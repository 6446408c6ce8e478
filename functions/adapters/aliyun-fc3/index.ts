import type { RelayRequest } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { clientScheme, eventBody, eventHeaders, eventLimits, isObject, queryFromParams, simpleResult, text, type Json } from '../event/translate';

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
    const headers = eventHeaders(event.headers, ['x-fc-']);
    return {
      method: text(http.method)?.toUpperCase() ?? 'GET',
      path: event.rawPath as string,
      // FC3 passes the query already parsed, with repeated keys joined by commas (`a=1&a=2` arrives as
      // `a: "1,2"`); it cannot be told from `a=1,2`, so it is forwarded as one value.
      query: queryFromParams(event.queryParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded),
      clientIp: text(http.sourceIp),
      protocol: clientScheme(headers),
    };
  },

  toResult: simpleResult,
};
