// Query strings, with the array and object encodings backends expect.

export type QueryValue = string | number | boolean | null | undefined | QueryValue[] | { [key: string]: QueryValue };
export type Query = Record<string, QueryValue>;

/**
 * How arrays are written: `repeat` (`tag=a&tag=b`, the default), `brackets` (`tag[]=a&tag[]=b`, what PHP
 * and Laravel read), `comma` (`tag=a,b`, what wx.request itself does with an array). Nested objects are
 * always written with brackets (`a[b]=1`; an array of objects by index, `a[0][b]=1`).
 */
export type ArrayFormat = 'repeat' | 'brackets' | 'comma';

const isPlain = (value: QueryValue): value is string | number | boolean => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** `{q: '小程序', tag: ['a', 'b']}` -> `q=%E5%B0%8F%E7%A8%8B%E5%BA%8F&tag=a&tag=b`; null and undefined are left out. */
export function encodeQuery(query?: Query, arrayFormat: ArrayFormat = 'repeat'): string {
  if (!query) return '';
  const pairs: string[] = [];
  const pair = (key: string, value: string | number | boolean) => pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  const walk = (key: string, value: QueryValue) => {
    if (value === null || value === undefined) return;
    if (isPlain(value)) return pair(key, value);
    if (Array.isArray(value)) {
      const items = value.filter((item) => item !== null && item !== undefined);
      if (!items.every(isPlain)) return items.forEach((item, index) => walk(`${key}[${index}]`, item));
      if (arrayFormat === 'comma') {
        if (items.length) pairs.push(`${encodeURIComponent(key)}=${items.map((item) => encodeURIComponent(String(item))).join(',')}`);
        return;
      }
      return items.forEach((item) => pair(arrayFormat === 'brackets' ? `${key}[]` : key, item as string));
    }
    Object.keys(value).forEach((name) => walk(`${key}[${name}]`, value[name]));
  };
  Object.keys(query).forEach((name) => walk(name, query[name]));
  return pairs.join('&');
}
