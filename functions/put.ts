// The `put` function: PUT /put {"method":"api/users/1","name":"x"} -> PUT {UPSTREAM_URL}/api/users/1 {"name":"x"}
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

// Assigned to module.exports rather than exported: ESM exports would cost every bundle esbuild's interop helpers.
module.exports = cloudEntry(ENDPOINTS.put);
