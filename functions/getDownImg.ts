// The `getDownImg` function: GET /getDownImg?method=img/a.png -> the image bytes, untouched
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

// Assigned to module.exports rather than exported: ESM exports would cost every bundle esbuild's interop helpers.
module.exports = cloudEntry(ENDPOINTS.getDownImg);
