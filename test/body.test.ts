import fc from 'fast-check';
import { isJsonValue, takeFormField, takeJsonField } from '../functions/core/body';
import { RelayError } from '../functions/core/errors';

// Cutting `method` out of a body leaves every other byte where it was.

const cut = (json: string) => {
  const field = takeJsonField(Buffer.from(json), 'method');
  return field && { value: field.value, body: field.body.toString() };
};

test.each([
  ['{"method":"a","b":1}', 'a', '{"b":1}'],
  ['{"b":1,"method":"a"}', 'a', '{"b":1}'],
  ['{"b":1 , "method" : "a" , "c":[1,{"method":"x"}]}', 'a', '{"b":1 , "c":[1,{"method":"x"}]}'],
  ['\n{\n  "method": "a"\n}\n', 'a', '\n{\n  \n}\n'],
  ['{"s":"}]{[\\"","method":"a\\/b","n":-1.50e+3}', 'a/b', '{"s":"}]{[\\"","n":-1.50e+3}'],
  ['{"\\u006dethod":"a","big":12345678901234567890}', 'a', '{"big":12345678901234567890}'],
  ['{"名":"值","method":"用户/1","t":true,"z":null}', '用户/1', '{"名":"值","t":true,"z":null}'],
])('%s', (json, value, body) => {
  expect(cut(json)).toEqual({ value, body });
});

test('no method field: undefined, body untouched by the caller', () => {
  expect(cut('{"a":{"method":"nested only"}}')).toBeUndefined();
  expect(cut('{}')).toBeUndefined();
});

test.each([
  ['{"method":"a","method":"b"}', 'BAD_PATH'],
  ['{"method":["a"]}', 'BAD_PATH'],
  ['{"method":"a"', 'BAD_BODY'],
  ['"method"', 'BAD_BODY'],
  ['null', 'BAD_BODY'],
  ['', 'BAD_BODY'],
])('%s is refused with %s', (json, code) => {
  expect(() => cut(json)).toThrow(RelayError);
  try {
    cut(json);
  } catch (error) {
    expect((error as RelayError).code).toBe(code);
  }
});

test('form bodies keep raw bytes, even non-ASCII ones', () => {
  const body = Buffer.concat([Buffer.from('a=%41&method=api%2Fx&raw='), Buffer.from([0xff, 0xfe]), Buffer.from('&a=2')]);
  const field = takeFormField(body, 'method')!;
  expect(field.value).toBe('api/x');
  expect(field.body.equals(Buffer.concat([Buffer.from('a=%41&raw='), Buffer.from([0xff, 0xfe]), Buffer.from('&a=2')]))).toBe(true);
  expect(takeFormField(Buffer.from('a=1'), 'method')).toBeUndefined();
});

test('the JSON check agrees with JSON.parse, on valid JSON and on near-misses of it', () => {
  const agrees = (text: string) => {
    let parses = true;
    try {
      JSON.parse(text);
    } catch {
      parses = false;
    }
    expect([text, isJsonValue(Buffer.from(text), 0)]).toEqual([text, parses]);
  };
  fc.assert(fc.property(fc.json(), agrees), { numRuns: 2000 });
  // Valid JSON with one character changed, dropped or repeated.
  const mutated = fc.tuple(fc.json(), fc.nat(), fc.constantFrom(...'{}[],:"\\ 0-.eE+tfnx\n'), fc.constantFrom('replace', 'drop', 'insert')).map(([json, at, char, how]) => {
    const i = json.length === 0 ? 0 : at % json.length;
    return how === 'replace' ? json.slice(0, i) + char + json.slice(i + 1) : how === 'drop' ? json.slice(0, i) + json.slice(i + 1) : json.slice(0, i) + char + json.slice(i);
  });
  fc.assert(fc.property(mutated, agrees), { numRuns: 5000 });
});

test('hostile body shapes are read in one pass: a million members, nesting millions deep, millions of "&"', () => {
  const members = Buffer.from(`{${Array.from({ length: 300_000 }, (_, i) => `"k${i}":${i}`).join(',')},"method":"api/x"}`);
  expect(takeJsonField(members, 'method')?.value).toBe('api/x');
  const deep = Buffer.from(`{"method":"api/x","a":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}`);
  expect(takeJsonField(deep, 'method')?.value).toBe('api/x');
  const unbalanced = Buffer.from(`{"method":"api/x","a":${'['.repeat(2_000_000)}}`);
  expect(() => takeJsonField(unbalanced, 'method')).toThrow(/not valid JSON/);
  const ampersands = Buffer.from(`${'&'.repeat(3_000_000)}method=api%2Fx${'&a'.repeat(1_000_000)}`);
  expect(takeFormField(ampersands, 'method')?.value).toBe('api/x');
});
