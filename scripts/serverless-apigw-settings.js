'use strict';
// A Serverless Framework v3 plugin for serverless-aliyun-function-compute, whose API Gateway APIs
// accept only the protocol named by the event key (`http` gives HTTP only, which a mini program,
// HTTPS only, cannot call) and cut the backend off after a fixed 3000 ms. After the APIs are compiled,
// this sets every one to accept HTTP and HTTPS and to wait custom.mpRelay.apiGatewayTimeoutMs.
//
// Sources (Aliyun API Gateway, traditional):
// - RequestConfig.RequestProtocol: "Valid values: HTTP and HTTPS. Separate multiple values with commas,
//   such as "HTTP,HTTPS"." https://www.alibabacloud.com/help/en/api-gateway/latest/front-end-information-items
// - ServiceConfig.ServiceTimeout, in milliseconds: "up to 30,000 ms for an API on a shared instance and up
//   to 120,000 ms for an API on a dedicated instance". https://www.alibabacloud.com/help/doc-detail/49910.htm
// - Binary bodies travel as base64 with isBase64Encoded in both directions (no setting needed).
//   https://help.aliyun.com/document_detail/85208.html
// The plugin's own `resources` merge keeps the values it compiled, so this cannot be done in YAML.

const SHARED_INSTANCE_MAX_MS = 30000;
const DEDICATED_INSTANCE_MAX_MS = 120000;
// A cross-border call can take seconds; the gateway must wait at least this long.
const MIN_MS = 10000;

class ApiGatewaySettings {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:compileFunctions': () => this.apply() };
  }

  apply() {
    const service = this.serverless.service;
    const settings = (service.custom && service.custom.mpRelay) || {};
    const timeoutMs = Number(settings.apiGatewayTimeoutMs);
    const max = settings.apiGatewayDedicatedInstance ? DEDICATED_INSTANCE_MAX_MS : SHARED_INSTANCE_MAX_MS;
    const relayTimeoutMs = Number((service.provider.environment || {}).RELAY_TIMEOUT_MS || 15000);
    const functionTimeoutMs = Number(service.provider.timeout || 30) * 1000;
    const fail = (message) => {
      throw new this.serverless.classes.Error(`custom.mpRelay.apiGatewayTimeoutMs: ${message}`);
    };
    if (!Number.isInteger(timeoutMs)) fail(`must be a whole number of milliseconds (got ${JSON.stringify(settings.apiGatewayTimeoutMs)})`);
    if (timeoutMs < MIN_MS) fail(`must be at least ${MIN_MS} (a cross-border call can take seconds)`);
    if (timeoutMs > max) fail(`must be at most ${max}, the gateway's ceiling on a ${settings.apiGatewayDedicatedInstance ? 'dedicated' : 'shared'} instance`);
    // The relay answers its own 504 before the gateway gives up, and the function outlives both.
    if (timeoutMs <= relayTimeoutMs) fail(`must be longer than RELAY_TIMEOUT_MS (${relayTimeoutMs})`);
    if (timeoutMs > functionTimeoutMs) fail(`must not be longer than the function timeout (${functionTimeoutMs} ms)`);

    const resources = service.provider.compiledConfigurationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'ALIYUN::API::HTTP') continue;
      resource.Properties.RequestConfig.RequestProtocol = 'HTTP,HTTPS';
      resource.Properties.ServiceConfig.ServiceTimeout = timeoutMs;
    }
  }
}

module.exports = ApiGatewaySettings;
