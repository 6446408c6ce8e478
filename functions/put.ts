// The `put` function: PUT /put {"method":"api/users/1","name":"x"} -> PUT {UPSTREAM_URL}/api/users/1 {"name":"x"}
import { cloudEntry } from './adapters/cloud/entry';
import { ENDPOINTS } from './core/endpoints';

export const { handler, main_handler } = cloudEntry(ENDPOINTS.put);
