import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Local stand-ins for the two cloud APIs the deploy scripts call, on 127.0.0.1: they keep state
// (so a second run sees what the first created) and record every call, so tests can assert the
// exact calls, paths and bodies. Error answers follow each API's documented shape.

export interface RecordedCall {
  method: string;
  /** FC: the path after /2016-08-15. SCF: the X-TC-Action. */
  target: string;
  body: any;
  authorization: string;
}

export interface StandIn {
  url: string;
  calls: RecordedCall[];
  /** Resources by key: FC paths such as `/services/mp-relay`, SCF keys such as `function default/x`. */
  state: Map<string, any>;
  close(): Promise<void>;
}

function serve(handle: (req: http.IncomingMessage, body: any) => { status: number; json: unknown }, calls: RecordedCall[], state: Map<string, any>): Promise<StandIn> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const { status, json } = handle(req, body);
      res.writeHead(status, { 'content-type': 'application/json', 'x-fc-request-id': 'stand-in' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls,
        state,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Aliyun Function Compute 2.0 API (version 2016-08-15): services, functions, triggers, custom domains.
 * A missing resource is a 404 with `{ErrorCode: "<Kind>NotFound", ErrorMessage}`.
 */
export function startFcStandIn(options: { accountSettings?: { status: number; json: unknown } } = {}): Promise<StandIn> {
  const calls: RecordedCall[] = [];
  const state = new Map<string, any>();
  // What GET /account-settings answers: the account's zones, unless a test makes it refuse.
  const accountSettings = options.accountSettings ?? { status: 200, json: { availableAZs: ['cn-shanghai-e'] } };
  // Collection path -> [the body field naming a new item, the kind used in error codes].
  const collections: [RegExp, string, string][] = [
    [/^\/services$/, 'serviceName', 'Service'],
    [/^\/services\/[^/]+\/functions$/, 'functionName', 'Function'],
    [/^\/services\/[^/]+\/functions\/[^/]+\/triggers$/, 'triggerName', 'Trigger'],
    [/^\/custom-domains$/, 'domainName', 'DomainName'],
  ];
  const kindOf = (path: string) => collections.find(([pattern]) => pattern.test(path.replace(/\/[^/]+$/, '')))?.[2] ?? 'Resource';
  return serve(
    (req, body) => {
      const path = (req.url ?? '').replace(/^\/2016-08-15/, '').replace(/\?.*$/, '');
      calls.push({ method: req.method ?? '', target: path, body, authorization: String(req.headers.authorization ?? '') });
      const notFound = (key: string) => ({ status: 404, json: { ErrorCode: `${kindOf(key)}NotFound`, ErrorMessage: `${key} not found` } });
      if (path === '/account-settings') return accountSettings;
      if (req.method === 'GET') return state.has(path) ? { status: 200, json: state.get(path) } : notFound(path);
      if (req.method === 'PUT') {
        if (!state.has(path)) return notFound(path);
        state.set(path, { ...state.get(path), ...body });
        return { status: 200, json: state.get(path) };
      }
      const collection = collections.find(([pattern]) => pattern.test(path));
      if (req.method === 'POST' && collection) {
        // A function needs its service, a trigger its function.
        const parent = path.replace(/\/[^/]+$/, '');
        if (parent !== '' && !state.has(parent)) return notFound(parent);
        const key = `${path}/${body[collection[1]]}`;
        if (state.has(key)) return { status: 409, json: { ErrorCode: `${collection[2]}AlreadyExists`, ErrorMessage: `${key} already exists` } };
        state.set(key, body);
        return { status: 200, json: body };
      }
      return { status: 400, json: { ErrorCode: 'InvalidArgument', ErrorMessage: `stand-in does not know ${req.method} ${path}` } };
    },
    calls,
    state,
  );
}

/**
 * Tencent SCF API (2018-04-16): one POST per call, the action in X-TC-Action, answers wrapped in
 * `{Response: ...}`, errors as `{Response: {Error: {Code, Message}}}` with HTTP 200, as the SDK expects.
 */
export function startScfStandIn(): Promise<StandIn> {
  const calls: RecordedCall[] = [];
  const state = new Map<string, any>();
  const fn = (body: any) => `function ${body.Namespace ?? 'default'}/${body.FunctionName}`;
  const error = (Code: string, Message: string) => ({ Error: { Code, Message } });
  const actions: Record<string, (body: any) => unknown> = {
    GetFunction: (body) => (state.has(fn(body)) ? { ...state.get(fn(body)), Status: 'Active' } : error('ResourceNotFound.Function', `${body.FunctionName} not found`)),
    CreateFunction: (body) => (state.has(fn(body)) ? error('ResourceInUse.Function', 'exists') : (state.set(fn(body), { ...body, Triggers: [] }), {})),
    UpdateFunctionCode: (body) => (state.has(fn(body)) ? (Object.assign(state.get(fn(body)), { Handler: body.Handler, Code: { ZipFile: body.ZipFile } }), {}) : error('ResourceNotFound.Function', 'missing')),
    UpdateFunctionConfiguration: (body) => (state.has(fn(body)) ? (Object.assign(state.get(fn(body)), body), {}) : error('ResourceNotFound.Function', 'missing')),
    ListTriggers: (body) => {
      const triggers = state.get(fn(body))?.Triggers ?? [];
      return { Triggers: triggers, TotalCount: triggers.length };
    },
    CreateTrigger: (body) => {
      const target = state.get(fn(body));
      if (!target) return error('ResourceNotFound.Function', 'missing');
      if (target.Triggers.some((item: any) => item.TriggerName === body.TriggerName)) return error('ResourceInUse.Trigger', 'exists');
      target.Triggers.push({ ...body });
      return {};
    },
    UpdateTrigger: (body) => {
      const trigger = state.get(fn(body))?.Triggers.find((item: any) => item.TriggerName === body.TriggerName);
      return trigger ? (Object.assign(trigger, body), {}) : error('ResourceNotFound.Trigger', 'missing');
    },
    GetCustomDomain: (body) => state.get(`domain ${body.Domain}`) ?? error('ResourceNotFound.Domain', `${body.Domain} not found`),
    CreateCustomDomain: (body) => (state.has(`domain ${body.Domain}`) ? error('ResourceInUse.Domain', 'exists') : (state.set(`domain ${body.Domain}`, body), {})),
    UpdateCustomDomain: (body) => (state.has(`domain ${body.Domain}`) ? (state.set(`domain ${body.Domain}`, body), {}) : error('ResourceNotFound.Domain', 'missing')),
  };
  return serve(
    (req, body) => {
      const action = String(req.headers['x-tc-action'] ?? '');
      calls.push({ method: req.method ?? '', target: action, body, authorization: String(req.headers.authorization ?? '') });
      const run = actions[action];
      const result = run ? run(body ?? {}) : error('InvalidAction', `stand-in does not know ${action}`);
      return { status: 200, json: { Response: { ...(result as object), RequestId: 'stand-in' } } };
    },
    calls,
    state,
  );
}
