// @alicloud/fc2 ships no TypeScript types. These cover the calls mp-relay's deploy script makes, as
// the SDK's lib/client.js implements them (FC API version 2016-08-15).
declare module '@alicloud/fc2' {
  export interface ClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    region: string;
    /** Overrides `https://<account>.<region>.fc.aliyuncs.com` (tests point it at a local stand-in). */
    endpoint?: string;
    secure?: boolean;
    timeout?: number;
    securityToken?: string;
  }

  export interface Response<T = Record<string, unknown>> {
    headers: Record<string, string>;
    data: T;
  }

  /** Thrown for any non-2xx answer; `code` is FC's ErrorCode, e.g. ServiceNotFound. */
  export interface FcError extends Error {
    code?: string;
  }

  export interface ServiceOptions {
    description?: string;
    internetAccess?: boolean;
    role?: string;
    logConfig?: { project: string; logstore: string };
  }

  export interface FunctionOptions {
    functionName?: string;
    description?: string;
    handler: string;
    runtime: string;
    memorySize?: number;
    timeout?: number;
    instanceConcurrency?: number;
    environmentVariables?: Record<string, string>;
    /** `zipFile` is the base64 of a ZIP archive. */
    code: { zipFile: string } | { ossBucketName: string; ossObjectName: string };
  }

  export interface HttpTriggerOptions {
    triggerName?: string;
    triggerType?: 'http';
    triggerConfig: { authType: 'anonymous' | 'function'; methods: string[] };
  }

  export interface RouteConfig {
    routes: { path: string; serviceName: string; functionName: string; qualifier?: string; methods?: string[] }[];
  }

  export interface CustomDomainOptions {
    protocol: 'HTTP' | 'HTTP,HTTPS';
    certConfig?: { certName: string; certificate: string; privateKey: string };
    routeConfig: RouteConfig;
  }

  export default class Client {
    constructor(accountId: string, config: ClientConfig);
    /** GET /account-settings: the account's zones; read-only. */
    getAccountSettings(): Promise<Response>;
    getService(serviceName: string): Promise<Response>;
    createService(serviceName: string, options?: ServiceOptions): Promise<Response>;
    updateService(serviceName: string, options?: ServiceOptions): Promise<Response>;
    getFunction(serviceName: string, functionName: string): Promise<Response>;
    createFunction(serviceName: string, options: FunctionOptions & { functionName: string }): Promise<Response>;
    updateFunction(serviceName: string, functionName: string, options: FunctionOptions): Promise<Response>;
    getTrigger(serviceName: string, functionName: string, triggerName: string): Promise<Response>;
    createTrigger(serviceName: string, functionName: string, options: HttpTriggerOptions): Promise<Response>;
    updateTrigger(serviceName: string, functionName: string, triggerName: string, options: Partial<HttpTriggerOptions>): Promise<Response>;
    getCustomDomain(domainName: string): Promise<Response>;
    createCustomDomain(domainName: string, options: CustomDomainOptions): Promise<Response>;
    updateCustomDomain(domainName: string, options: CustomDomainOptions): Promise<Response>;
  }
}
