import type { Endpoint } from './types';

// The four functions of the original proxy, and `delete`; each is deployed on its own and shares the core.
export const ENDPOINTS = {
  get: { name: 'get', method: 'GET' },
  post: { name: 'post', method: 'POST' },
  put: { name: 'put', method: 'PUT' },
  /** Binary downloads: the same as `get`; bytes and Content-Type pass through untouched. */
  getDownImg: { name: 'getDownImg', method: 'GET' },
  /** wx.request sends DELETE; PATCH, which it cannot send, goes to `post` with X-HTTP-Method-Override. */
  delete: { name: 'delete', method: 'DELETE' },
} as const satisfies Record<string, Endpoint>;
