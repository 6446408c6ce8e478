// The `post` function: POST /post {"method":"api/users","name":"x"} -> POST {UPSTREAM_URL}/api/users {"name":"x"}
import { nodeHandler } from './adapters/node-http/handler';
import { loadConfig } from './core/config';
import { ENDPOINTS } from './core/endpoints';
import { createRelay } from './core/relay';

// Created once per instance, so configuration and upstream connections outlive a single invocation.
const relay = createRelay(ENDPOINTS.post, loadConfig(process.env));

export const handler = nodeHandler(relay);
