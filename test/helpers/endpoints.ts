// The five functions and their methods, as the tests expect them (kept apart from the code's own list).
export const FUNCTIONS = [
  ['get', 'GET'],
  ['post', 'POST'],
  ['put', 'PUT'],
  ['getDownImg', 'GET'],
  ['delete', 'DELETE'],
] as const;
