// The `put` function: PUT /put {"method":"api/users/1","name":"x"} -> PUT {UPSTREAM_URL}/api/users/1 {"name":"x"}
import { nodeHandler } from './adapters/node-http/handler';
import { loadConfig } from './core/config';
import { ENDPOINTS } from './core/endpoints';
import { createRelay } from './core/relay';

// Created once per instance, so configuration and upstream connections outlive a single invocation.
const relay = createRelay(ENDPOINTS.put, loadConfig(process.env));

export const handler = nodeHandler(relay);
