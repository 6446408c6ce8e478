// The `getDownImg` function: GET /getDownImg?method=img/a.png -> the image bytes, untouched
import { nodeHandler } from './adapters/node-http/handler';
import { loadConfig } from './core/config';
import { ENDPOINTS } from './core/endpoints';
import { createRelay } from './core/relay';

// Created once per instance, so configuration and upstream connections outlive a single invocation.
const relay = createRelay(ENDPOINTS.getDownImg, loadConfig(process.env));

export const handler = nodeHandler(relay);
