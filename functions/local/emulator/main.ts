import http from 'node:http';
import path from 'node:path';
import { startDemoBackend } from '../demo-backend';
import { invokeThrough, platformError, PLATFORM_IDS, PLATFORMS, type FunctionHandler, type OutgoingAnswer } from './platforms';

// `npm run emulate -- --platform <id>`: the built bundles (dist/<fn>/index.js) behind a local HTTP
// server that calls them the way the chosen cloud does, so curl or the mini program devtools can talk
// to a function exactly as deployed. Routes by the first path segment, like a custom domain mapping
// /get, /post, /put, /getDownImg and /delete to the five functions.

const FUNCTIONS = ['get', 'post', 'put', 'getDownImg', 'delete'];

interface Options {
  platform: (typeof PLATFORM_IDS)[number];
  host: string;
  port: number;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const platform = value('--platform');
  if (!platform || !(PLATFORM_IDS as readonly string[]).includes(platform)) {
    fail(`--platform must be one of ${PLATFORM_IDS.join(', ')} (got ${platform ?? 'nothing'})\nusage: npm run emulate -- --platform fc3 [--port 9000] [--host 127.0.0.1]`);
  }
  const port = Number(value('--port') ?? process.env.PORT ?? 9000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a port number');
  return { platform: platform as Options['platform'], host: value('--host') ?? process.env.HOST ?? '127.0.0.1', port };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const platform = PLATFORMS[options.platform];
  // The bundles read their configuration when loaded, as on a cloud instance: settle it first.
  let demo = '';
  if (!process.env.UPSTREAM_URL?.trim()) {
    process.env.UPSTREAM_URL = (await startDemoBackend()).url;
    demo = '  (built-in demo backend / 内置演示后端)';
  }
  const distDir = path.resolve(__dirname, '..');
  const handlers = new Map<string, FunctionHandler>();
  for (const name of FUNCTIONS) {
    const file = path.join(distDir, name, 'index.js');
    try {
      handlers.set(name, (require(file) as { handler: FunctionHandler }).handler);
    } catch (error) {
      fail(`cannot load ${file} (run npm run build first): ${String(error)}`);
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      const handler = handlers.get(target.split(/[/?]/)[1] ?? '');
      const answer: Promise<OutgoingAnswer> = handler
        ? invokeThrough(platform, handler, {
            method: req.method ?? 'GET',
            target,
            headers: pairs(req.rawHeaders),
            body: Buffer.concat(chunks),
            remoteAddress: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
            host: req.headers.host ?? 'localhost',
          })
        : Promise.resolve(platformError(404, `no function mapped at ${target.slice(0, 100)}; use /${FUNCTIONS.join(', /')}`));
      answer.then((out) => {
        // The platform's front end, not the function, frames the body.
        const framed = out.headers.filter(([name]) => !/^(content-length|transfer-encoding|connection)$/i.test(name));
        framed.push(['content-length', String(out.body.length)]);
        res.writeHead(out.status, framed.flat());
        res.end(out.body);
      });
    });
  });
  server.on('error', (error) => fail(`cannot listen on ${options.host}:${options.port}: ${error.message}`));
  server.listen(options.port, options.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    process.stdout.write(
      `mp-relay emulator (${platform.id}: ${platform.title}) listening on http://${options.host}:${port}\n` +
        `upstream: ${process.env.UPSTREAM_URL}${demo}\n` +
        `  curl -i 'http://${options.host}:${port}/get?method=api/users'\n`,
    );
  });
  const stop = () => process.exit(0);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function pairs(raw: string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([raw[i]!, raw[i + 1]!]);
  return result;
}

function fail(message: string): never {
  process.stderr.write(`mp-relay emulate: ${message}\n`);
  process.exit(1);
}

void main();
