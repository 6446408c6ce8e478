import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

// The Laravel middleware's own check (examples/backend-auth/VerifyRelaySignature.php) behind PHP's
// built-in server: 200 when the request's signature is valid, 401 otherwise. Only where php exists.

export const hasPhp = spawnSync('php', ['--version']).status === 0;

export interface PhpVerifier {
  url: string;
  close(): Promise<void>;
}

export async function startPhpVerifier(secret: string): Promise<PhpVerifier> {
  const router = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-php-')), 'router.php');
  writeFileSync(
    router,
    `<?php
require ${JSON.stringify(path.join(__dirname, '..', '..', 'examples', 'backend-auth', 'VerifyRelaySignature.php'))};
$ok = App\\Http\\Middleware\\VerifyRelaySignature::isValid(${JSON.stringify(secret)}, $_SERVER['REQUEST_METHOD'], $_SERVER['REQUEST_URI'],
  array_change_key_case(getallheaders(), CASE_LOWER), file_get_contents('php://input'), time());
http_response_code($ok ? 200 : 401);
header('content-type: application/json');
echo json_encode(['ok' => $ok]);
`,
  );
  const port = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const php = spawn('php', ['-S', `127.0.0.1:${port}`, router], { stdio: ['ignore', 'ignore', 'pipe'] });
  // The listener stays on, which also keeps PHP's request log from filling the pipe.
  await new Promise<void>((resolve) => php.stderr.on('data', (chunk: Buffer) => /started/i.test(chunk.toString()) && resolve()));
  const exited = new Promise<void>((resolve) => php.on('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      php.kill();
      return exited;
    },
  };
}
