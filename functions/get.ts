// The `get` function: GET /get?method=api/users&page=2 -> GET {UPSTREAM_URL}/api/users?page=2
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

export const { handler, main_handler } = cloudEntry(ENDPOINTS.get);
