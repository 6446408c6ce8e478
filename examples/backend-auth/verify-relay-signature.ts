// Express middleware for the backend: accept only requests that came through mp-relay, signed with
// RELAY_SIGNING_SECRET. Mount it before any body parser, or keep the raw body (see docs/backend-auth.md).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const WINDOW_SECONDS = 300; // 5 minutes either way, for clock skew between the relay and the backend
// The headers the signature covers, in this order; the relay names them in x-relay-signed-headers.
const SIGNED_HEADERS = ['authorization', 'content-type', 'cookie'];
// Covered after them when present: the relay sends it on /post only, for PATCH or DELETE.
const METHOD_OVERRIDE = 'x-http-method-override';

export function verifyRelaySignature(secret: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    readRawBody(req).then(
      (body) => {
        const timestamp = String(req.headers['x-relay-timestamp'] ?? '');
        const signature = String(req.headers['x-relay-signature'] ?? '');
        const age = Math.abs(Date.now() / 1000 - Number(timestamp));
        if (!/^\d+$/.test(timestamp) || !(age <= WINDOW_SECONDS)) return void res.status(401).json({ message: 'stale or missing x-relay-timestamp' });
        // An override the relay did not sign is refused here: method-override middleware would act on it.
        const names = req.headers[METHOD_OVERRIDE] === undefined ? SIGNED_HEADERS : [...SIGNED_HEADERS, METHOD_OVERRIDE];
        if (req.headers['x-relay-signed-headers'] !== names.join(';')) return void res.status(401).json({ message: 'x-relay-signed-headers missing or different: update mp-relay and this middleware together' });
        // The method on the wire: method-override middleware, if mounted first, keeps it in originalMethod.
        const method = (req as Request & { originalMethod?: string }).originalMethod ?? req.method;
        // req.originalUrl is the request target exactly as the relay sent it (path and query).
        const lines = ['v2', method, req.originalUrl, timestamp, createHash('sha256').update(body).digest('hex')];
        for (const name of names) lines.push(`${name}:${String(req.headers[name] ?? '').replace(/^[ \t]+|[ \t]+$/g, '')}`);
        // latin1: Node decodes header bytes as latin1, so this hashes the bytes that were on the wire.
        const expected = createHmac('sha256', secret).update(lines.join('\n'), 'latin1').digest();
        const given = Buffer.from(signature, 'hex');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.status(401).json({ message: 'bad x-relay-signature' });
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/** The body bytes: a Buffer left by express.raw(), or read from the stream here. */
function readRawBody(req: Request): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      // Later handlers can still read it.
      (req as Request & { rawBody?: Buffer }).rawBody = body;
      resolve(body);
    });
    req.on('error', reject);
  });
}
