import { loadConfig } from '../../core/config';
import { createRelay } from '../../core/relay';
import type { Endpoint } from '../../core/types';
import { cloudHandler } from './handler';

/**
 * What a function bundle exports. Runs once per instance, when the runtime loads the bundle, so the
 * configuration and the keep-alive connections to the backend outlive a single invocation.
 */
export function cloudEntry(endpoint: Endpoint) {
  const handler = cloudHandler(createRelay(endpoint, loadConfig(process.env)));
  return { handler, main_handler: handler };
}
