// The `get` function: GET /get?method=api/users&page=2 -> GET {UPSTREAM_URL}/api/users?page=2
import { nodeHandler } from './adapters/node-http/handler';
import { loadConfig } from './core/config';
import { ENDPOINTS } from './core/endpoints';
import { createRelay } from './core/relay';

// Created once per instance, so configuration and upstream connections outlive a single invocation.
const relay = createRelay(ENDPOINTS.get, loadConfig(process.env));

export const handler = nodeHandler(relay);
