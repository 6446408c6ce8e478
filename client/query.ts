// Query strings, with the array and object encodings backends expect.

export type QueryValue = string | number | boolean | Date | null | undefined | QueryValue[] | { [key: string]: QueryValue };
export type Query = Record<string, QueryValue>;

/**
 * How arrays are written: `repeat` (`tag=a&tag=b`, the default), `brackets` (`tag[]=a&tag[]=b`, what PHP
 * and Laravel read), `comma` (`tag=a,b`, what wx.request itself does with an array). Nested objects are
 * always written with brackets (`a[b]=1`; an array of objects by index, `a[0][b]=1`).
 */
export type ArrayFormat = 'repeat' | 'brackets' | 'comma';

const isPlain = (value: QueryValue | Date): value is string | number | boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/**
 * `{q: '小程序', tag: ['a', 'b']}` -> `q=%E5%B0%8F%E7%A8%8B%E5%BA%8F&tag=a&tag=b`; null and undefined are
 * left out, a Date is sent as its ISO time; NaN and Infinity are refused (TypeError).
 */
export function encodeQuery(query?: Query, arrayFormat: ArrayFormat = 'repeat'): string {
  if (arrayFormat !== 'repeat' && arrayFormat !== 'brackets' && arrayFormat !== 'comma') throw new TypeError(`mp-relay: arrayFormat must be repeat, brackets or comma (got ${String(arrayFormat)})`);
  if (!query) return '';
  const pairs: string[] = [];
  const text = (value: string | number | boolean) => {
    if (typeof value === 'number' && !isFinite(value)) throw new TypeError(`mp-relay: ${value} cannot be sent in a query`);
    return encodeURIComponent(String(value));
  };
  const walk = (key: string, value: QueryValue | Date) => {
    if (value === null || value === undefined) return;
    if (value instanceof Date) return pairs.push(`${encodeURIComponent(key)}=${text(value.toISOString())}`);
    if (isPlain(value)) return pairs.push(`${encodeURIComponent(key)}=${text(value)}`);
    if (Array.isArray(value)) {
      // Arrays of objects keep their positions (`a[2][id]`), gaps included.
      if (!value.every((item) => item === null || item === undefined || isPlain(item))) return value.forEach((item, index) => walk(`${key}[${index}]`, item));
      const items = value.filter((item): item is string | number | boolean => item !== null && item !== undefined);
      if (arrayFormat === 'comma') {
        if (items.length) pairs.push(`${encodeURIComponent(key)}=${items.map(text).join(',')}`);
        return;
      }
      return items.forEach((item) => pairs.push(`${encodeURIComponent(arrayFormat === 'brackets' ? `${key}[]` : key)}=${text(item)}`));
    }
    Object.keys(value).forEach((name) => walk(`${key}[${name}]`, (value as { [key: string]: QueryValue })[name]));
  };
  Object.keys(query).forEach((name) => walk(name, query[name]));
  return pairs.join('&');
}
