// The `getDownImg` function: GET /getDownImg?method=img/a.png -> the image bytes, untouched
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

export const { handler, main_handler } = cloudEntry(ENDPOINTS.getDownImg);
