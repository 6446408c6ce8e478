// The `get` function: GET /get?method=api/users&page=2 -> GET {UPSTREAM_URL}/api/users?page=2
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

// Assigned to module.exports rather than exported: ESM exports would cost every bundle esbuild's interop helpers.
module.exports = cloudEntry(ENDPOINTS.get);
