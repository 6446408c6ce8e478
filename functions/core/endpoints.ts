import type { Endpoint } from './types';

// The four functions of the original proxy; each is deployed on its own and shares the core.
export const ENDPOINTS = {
  get: { name: 'get', method: 'GET' },
  post: { name: 'post', method: 'POST' },
  put: { name: 'put', method: 'PUT' },
  /** Binary downloads: the same as `get`; bytes and Content-Type pass through untouched. */
  getDownImg: { name: 'getDownImg', method: 'GET' },
} as const satisfies Record<string, Endpoint>;
