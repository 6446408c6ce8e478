import type { APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RelayRequest, RelayResponse } from '../../core/types';
import type { EventPlatform } from '../event/platform';
import { AWS_HEADERS } from '../shared/platform-headers';
import { badEvent, clientScheme, encodeBody, eventBody, eventHeaders, eventLimits, isObject, optionalText, queryFromParams, requiredMethod, requiredText, type Json } from '../event/translate';

// AWS Lambda (also the AWS China regions, which accept ICP-filed domains): HTTP API v2 and function
// URL events, and REST API v1 events. Types from @types/aws-lambda, trigger/api-gateway-proxy.d.ts.
// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads

const MB = 1024 * 1024;
// Synchronous invocation payloads are limited to 6 MB each way.
const LIMITS = { request: 6 * MB, response: 6 * MB };

export const awsLambdaV2: EventPlatform = {
  name: 'AWS Lambda',
  limits: eventLimits('AWS Lambda', LIMITS.request, LIMITS.response),

  recognises: (event) => event.version === '2.0' && typeof event.rawPath === 'string' && isObject(event.requestContext),

  toRequest(event: Json): RelayRequest {
    const http = (event.requestContext as Json).http;
    if (!isObject(http)) throw badEvent('requestContext.http must be an object');
    const headers = eventHeaders(event.headers, AWS_HEADERS);
    // v2 moves cookies out of the headers into their own array.
    const cookies = event.cookies === undefined || event.cookies === null ? [] : event.cookies;
    if (!Array.isArray(cookies)) throw badEvent('cookies must be a list of strings');
    if (cookies.length > 0) headers['cookie'] = cookies.map((cookie) => requiredText(cookie, 'cookies[]', 64 * 1024)).join('; ');
    return {
      method: requiredMethod(http.method, 'requestContext.http.method'),
      path: withoutStage(requiredText(event.rawPath, 'rawPath'), (event.requestContext as Json).stage),
      query: optionalText(event.rawQueryString, 'rawQueryString', 64 * 1024) ?? '',
      headers,
      body: eventBody(event.body, event.isBase64Encoded, this.limits.maxRequestBytes),
      // "The source IP address of the immediate TCP connection making the request" (urls-invocation).
      clientIp: optionalText(http.sourceIp, 'requestContext.http.sourceIp', 64),
      protocol: clientScheme(headers),
    };
  },

  toResult(response: RelayResponse): APIGatewayProxyStructuredResultV2 {
    const { 'set-cookie': setCookie, 'content-length': _length, ...rest } = response.headers;
    const headers: Record<string, string> = Object.create(null);
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

/**
 * An HTTP API called on its execute-api URL with a named stage puts the stage in rawPath (`/prod/get`;
 * aws-powertools/powertools-lambda-python#621); the `$default` stage and function URLs do not. A custom
 * domain's API mapping is never in rawPath (AWS: "rawPath won't provide the API mapping value"); a REST
 * API keeps it in `path`, which RELAY_BASE_PATH strips.
 */
function withoutStage(rawPath: string, stage: unknown): string {
  if (typeof stage !== 'string' || stage === '' || stage === '$default') return rawPath;
  if (rawPath === `/${stage}`) return '/';
  return rawPath.startsWith(`/${stage}/`) ? rawPath.slice(stage.length + 1) : rawPath;
}

export const awsLambdaV1: EventPlatform = {
  name: 'AWS Lambda',
  limits: eventLimits('AWS Lambda', LIMITS.request, LIMITS.response),

  recognises: (event) => typeof event.httpMethod === 'string' && typeof event.path === 'string' && ('multiValueHeaders' in event || 'resource' in event),

  toRequest(event: Json): RelayRequest {
    const headers = eventHeaders(event.multiValueHeaders ?? event.headers, AWS_HEADERS);
    const identity = isObject(event.requestContext) ? event.requestContext.identity : undefined;
    return {
      method: requiredMethod(event.httpMethod, 'httpMethod'),
      path: requiredText(event.path, 'path'),
      query: queryFromParams(event.multiValueQueryStringParameters ?? event.queryStringParameters),
      headers,
      body: eventBody(event.body, event.isBase64Encoded, this.limits.maxRequestBytes),
      clientIp: isObject(identity) ? optionalText(identity.sourceIp, 'requestContext.identity.sourceIp', 64) : undefined,
      protocol: clientScheme(headers),
    };
  },

  toResult(response: RelayResponse): APIGatewayProxyResult {
    const { 'content-length': _length, ...rest } = response.headers;
    const multiValueHeaders: Record<string, string[]> = Object.create(null);
    for (const [name, value] of Object.entries(rest)) multiValueHeaders[name] = [value].flat();
    return { statusCode: response.status, multiValueHeaders, ...encodeBody(response.headers, response.body) };
  },
};
