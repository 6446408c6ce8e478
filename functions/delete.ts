// The `delete` function: DELETE /delete?method=api/users/1 -> DELETE {UPSTREAM_URL}/api/users/1
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

// Assigned to module.exports rather than exported: ESM exports would cost every bundle esbuild's interop helpers.
module.exports = cloudEntry(ENDPOINTS.delete);
