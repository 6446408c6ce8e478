// The `post` function: POST /post {"method":"api/users","name":"x"} -> POST {UPSTREAM_URL}/api/users {"name":"x"}
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

// Assigned to module.exports rather than exported: ESM exports would cost every bundle esbuild's interop helpers.
module.exports = cloudEntry(ENDPOINTS.post);
