'use strict';
// A Serverless Framework v3 plugin for serverless-aliyun-function-compute, which compiles functions
// without their `environment`, so UPSTREAM_URL would never reach them. After it has compiled, this
// copies provider.environment merged with each function's own onto the FC function resources, as
// `environmentVariables`, the field the FC API takes.

class FcEnvironment {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:compileFunctions': () => this.addEnvironment() };
  }

  addEnvironment() {
    const service = this.serverless.service;
    const resources = service.provider.compiledConfigurationTemplate.Resources;
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const variables = { ...service.provider.environment, ...fn.environment };
      for (const resource of Object.values(resources)) {
        if (resource.Type === 'ALIYUN::FC::Function' && resource.Properties.name === fn.name) {
          resource.Properties.environmentVariables = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)]));
        }
      }
    }
  }
}

module.exports = FcEnvironment;
