// The headers a platform adds to each request it hands the function (trace ids, its own signatures,
// even the instance's credentials). They mean nothing to the backend and must never reach it. Each
// platform lists them by exact name, so a header a real API uses (X-Api-Key, X-Ca-Key) still passes;
// a prefix is used only where the platform's docs say clients cannot send headers with it at all.

export interface PlatformHeaders {
  readonly names: ReadonlySet<string>;
  /** A prefix the platform reserves for itself (documented: client headers with it are refused). */
  readonly reservedPrefix?: string;
}

export function platformHeaders(names: readonly string[], reservedPrefix?: string): PlatformHeaders {
  return { names: new Set(names), reservedPrefix };
}

export const NO_PLATFORM_HEADERS = platformHeaders([]);

export function isPlatformHeader(platform: PlatformHeaders, lowerCaseName: string): boolean {
  return platform.names.has(lowerCaseName) || (platform.reservedPrefix !== undefined && lowerCaseName.startsWith(platform.reservedPrefix));
}

/**
 * Aliyun Function Compute, every runtime (FC 3.0 events, FC 2.0 `(req, resp)`, custom runtimes). The
 * documented list ("common request headers"), plus the ones FC's runtime SDK and captured requests show.
 * FC refuses client headers starting with `x-fc-`, so the prefix catches any it adds later; the instance's
 * AccessKey and security token travel in these.
 * https://help.aliyun.com/document_detail/2513507.html (FC 3.0 common request headers)
 * https://www.alibabacloud.com/help/en/fc/user-guide/specification-details (FC 2.0)
 * https://www.alibabacloud.com/help/en/functioncompute/web-functions ("custom fields that start with x-fc- are not supported")
 * github.com/aliyun/fc-runtime-go-sdk fc/runtime_api_client.go
 */
export const ALIYUN_FC_HEADERS = platformHeaders(
  [
    'x-fc-request-id', 'x-fc-access-key-id', 'x-fc-access-key-secret', 'x-fc-security-token',
    'x-fc-function-handler', 'x-fc-function-memory', 'x-fc-function-initializer', 'x-fc-initialization-timeout',
    'x-fc-instance-lifecycle-pre-stop-handler', 'x-fc-instance-lifecycle-pre-freeze-handler',
    'x-fc-region', 'x-fc-account-id', 'x-fc-qualifier', 'x-fc-version-id', 'x-fc-function-name',
    'x-fc-service-name', 'x-fc-service-logproject', 'x-fc-service-logstore', 'x-fc-control-path', 'x-fc-base-path',
    'x-fc-function-timeout', 'x-fc-retry-count', 'x-fc-function-type', 'x-fc-function-deadline', 'x-fc-http-params',
    'x-fc-tracing-opentracing-span-context', 'x-fc-tracing-opentracing-span-baggages', 'x-fc-tracing-jaeger-endpoint',
    'x-fc-client-ip', 'x-fc-api-server-ip', 'x-fc-eagleeye-rpcid', 'x-fc-eagleeye-traceid', 'x-fc-eagleeye-userdata',
  ],
  'x-fc-',
);

/**
 * Aliyun API Gateway in front of FC: its signature to the backend, its request id and stage (the
 * stage is in the documented sample event), plus FC's own. The client's `X-Ca-Key`/`X-Ca-Signature`
 * (app authentication) are the client's and pass like any header.
 * https://help.aliyun.com/en/api-gateway/traditional-api-gateway/user-guide/backend-signature-2
 * https://help.aliyun.com/document_detail/54788.html (API Gateway trigger event format)
 */
export const ALIYUN_APIGW_HEADERS = platformHeaders(
  [...ALIYUN_FC_HEADERS.names, 'x-ca-proxy-signature', 'x-ca-proxy-signature-headers', 'x-ca-proxy-signature-method', 'x-ca-proxy-signature-secret-key', 'x-ca-request-id', 'x-ca-stage'],
  'x-fc-',
);

/**
 * Tencent SCF: function URLs, web functions and the (retired) API Gateway trigger. SCF fills in
 * `X-Scf-*` itself and does not let clients set them, hence the prefix; the gateway's are exact names.
 * https://cloud.tencent.com/document/product/583/56124 (web functions: X-Scf-* "不支持自定义")
 * https://cloud.tencent.com/document/product/583/40678 (headers starting with X-SCF- are filled in, not customisable)
 * https://cloud.tencent.com/document/product/583/96099 (function URL event: x-scf-remote-addr)
 * https://www.tencentcloud.com/document/product/628/38896 (gateway to backend: X-Api-RequestId, X-Api-Scheme, x-b3-traceid, X-Client-Proto)
 */
export const TENCENT_SCF_HEADERS = platformHeaders(
  [
    'x-scf-request-id', 'x-scf-memory', 'x-scf-timeout', 'x-scf-version', 'x-scf-name', 'x-scf-namespace',
    'x-scf-region', 'x-scf-appid', 'x-scf-uin', 'x-scf-remote-addr', 'x-scf-request-domain',
    'x-scf-secret-id', 'x-scf-secret-key', 'x-scf-session-token',
    'x-api-requestid', 'x-api-scheme', 'x-b3-traceid', 'x-qualifier', 'x-anonymous-consumer', 'x-client-proto', 'x-client-proto-ver',
  ],
  'x-scf-',
);

/**
 * AWS Lambda function URLs and API Gateway (HTTP and REST APIs). AWS reserves `x-amz-*`/`x-amzn-*` in
 * HTTP API mappings, but clients can still send such headers to a function URL, so names are exact.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (request payload example)
 */
export const AWS_HEADERS = platformHeaders([
  'x-amzn-trace-id', 'x-amzn-tls-version', 'x-amzn-tls-cipher-suite', 'x-amzn-vpc-id', 'x-amzn-vpce-id',
  'x-amzn-vpce-config', 'x-amzn-apigateway-api-id', 'x-amz-cf-id', 'via',
  'cloudfront-forwarded-proto', 'cloudfront-is-desktop-viewer', 'cloudfront-is-mobile-viewer',
  'cloudfront-is-smarttv-viewer', 'cloudfront-is-tablet-viewer', 'cloudfront-viewer-country',
]);
