import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RelayRequest, RelayResponse } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { clientScheme, encodeBody, eventBody, eventHeaders, eventLimits, isObject, queryFromParams, type Json } from '../event/translate';

// AWS Lambda (also the AWS China regions, which accept ICP-filed domains): HTTP API v2 and function
// URL events, and REST API v1 events. Types from @types/aws-lambda, trigger/api-gateway-proxy.d.ts.
// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads

const MB = 1024 * 1024;
// Synchronous invocation payloads are limited to 6 MB each way.
const LIMITS = { request: 6 * MB, response: 6 * MB };
const INTERNAL = ['x-amzn-'];

export const awsLambdaV2: EventPlatform = {
  name: 'AWS Lambda',
  limits: eventLimits('AWS Lambda', LIMITS.request, LIMITS.response),

  recognises: (event) => event.version === '2.0' && typeof event.rawPath === 'string' && isObject(event.requestContext),

  toRequest(json: Json): RelayRequest {
    const event = json as unknown as APIGatewayProxyEventV2;
    const headers = eventHeaders(event.headers, INTERNAL);
    // v2 moves cookies out of the headers into their own array.
    if (event.cookies?.length) headers['cookie'] = event.cookies.join('; ');
    return {
      method: event.requestContext.http?.method?.toUpperCase() ?? 'GET',
      path: event.rawPath,
      query: event.rawQueryString ?? '',
      headers,
      body: eventBody(event.body, event.isBase64Encoded),
      clientIp: event.requestContext.http?.sourceIp,
      protocol: clientScheme(headers),
    };
  },

  toResult(response: RelayResponse): APIGatewayProxyStructuredResultV2 {
    const { 'set-cookie': setCookie, 'content-length': _length, ...rest } = response.headers;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(rest)) headers[name] = [value].flat().join(', ');
    return {
      statusCode: response.status,
      headers,
      // v2 carries each Set-Cookie separately here.
      ...(setCookie === undefined ? {} : { cookies: [setCookie].flat() }),
      ...encodeBody(response.headers, response.body),
    };
  },
};

export const awsLambdaV1: EventPlatform = {
  name: 'AWS Lambda',
  limits: eventLimits('AWS Lambda', LIMITS.request, LIMITS.response),

  recognises: (event) => typeof event.httpMethod === 'string' && typeof event.path === 'string' && ('multiValueHeaders' in event || 'resource' in event),

  toRequest(json: Json): RelayRequest {
    const event = json as unknown as APIGatewayProxyEvent;
    const headers = eventHeaders(event.multiValueHeaders ?? event.headers, INTERNAL);
    return {
      method: event.httpMethod.toUpperCase(),
      path: event.path,
      query: queryFromParams(event.multiValueQueryStringParameters ?? event.queryStringParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded),
      clientIp: event.requestContext?.identity?.sourceIp,
      protocol: clientScheme(headers),
    };
  },

  toResult(response: RelayResponse): APIGatewayProxyResult {
    const { 'content-length': _length, ...rest } = response.headers;
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(rest)) multiValueHeaders[name] = [value].flat();
    return { statusCode: response.status, multiValueHeaders, ...encodeBody(response.headers, response.body) };
  },
};
