// The `post` function: POST /post {"method":"api/users","name":"x"} -> POST {UPSTREAM_URL}/api/users {"name":"x"}
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

export const { handler, main_handler } = cloudEntry(ENDPOINTS.post);
