import type { Writable } from 'node:stream';
import { RelayError } from './errors';
import type { ServerBodies } from './forward';
import type { StreamedBody, StreamOutcome } from './types';

// How servers send upstream bodies: a large one as it arrives, a whole one in the pieces it came in.
// Event functions return one joined body instead, so this lives apart from forward.ts and stays out of
// the function bundles.

const CUT_SHORT = 'the upstream closed the connection before the streamed response was complete (TRUNCATED)';

/**
 * Streamed bodies in progress at most, per process. Each holds an upstream socket for as long as its
 * client takes to read it; without a cap, a few hundred clients that never read would hold the whole pool
 * (256 sockets, forward.ts) and every other request would wait for a socket until it timed out. Past the
 * cap a large answer is refused 503 BUSY, and the other half of the pool stays for everything else.
 */
export const MAX_STREAMED_BODIES = 128;

export function createServerBodies(maxStreamed = MAX_STREAMED_BODIES): ServerBodies {
  let active = 0;
  const streamed: ServerBodies['streamed'] = (incoming, prefix, prefixBytes, declared, request) => {
    if (active >= maxStreamed) {
      incoming.destroy();
      throw new RelayError('BUSY', `the relay is streaming ${maxStreamed} large answers already; retry shortly`, { 'retry-after': '1' });
    }
    active++;
    let released = false;
    const release = () => {
      if (!released) active--;
      released = true;
    };
    const body = streamedBody(incoming, prefix, prefixBytes, declared, request);
    return {
      length: body.length,
      discard: (reason) => {
        release();
        body.discard(reason);
      },
      pipeTo: (sink) => body.pipeTo(sink).finally(release),
    };
  };
  return { streamed, held };
}

/**
 * The rest of a response body, after the `prefix` chunks already read, written into a sink as it
 * arrives and no faster than the sink takes it. Bounded like a buffered body: no more than
 * maxResponseBytes in all, and no pause longer than timeoutMs while the sink is ready for more.
 */
const streamedBody: ServerBodies['streamed'] = (incoming, prefix, prefixBytes, declared, request) => {
  return {
    length: declared,
    discard: () => incoming.destroy(),
    pipeTo: (sink) =>
      new Promise((resolve) => {
        let bytes = prefixBytes;
        let received = prefixBytes;
        let lastReceived = -1;
        let ended = false;
        let reported = false;
        const report = (outcome: StreamOutcome) => {
          if (reported) return;
          reported = true;
          clearInterval(idle);
          incoming.removeListener('data', onData);
          sink.removeListener('drain', onDrain);
          resolve(outcome);
        };
        const fail = (error: NonNullable<StreamOutcome['error']>, detail: string) => {
          if (reported) return;
          incoming.destroy();
          sink.destroy();
          report({ bytes, error, detail });
        };
        const onDrain = () => incoming.resume();
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received > request.maxResponseBytes) return fail('RESPONSE_TOO_LARGE', `the streamed response passed ${request.maxResponseBytes} bytes`);
          bytes += chunk.length;
          if (!sink.write(chunk)) incoming.pause();
        };
        // Progress is checked a few times per timeout rather than timed per chunk; a full sink (a slow
        // client) is not the upstream's pause.
        let lastProgress = Date.now();
        const idle = setInterval(() => {
          if (received !== lastReceived || incoming.isPaused() || ended) {
            lastReceived = received;
            lastProgress = Date.now();
          } else if (Date.now() - lastProgress >= request.timeoutMs) {
            fail('UPSTREAM_TIMEOUT', `the streamed response paused for ${request.timeoutMs} ms`);
          }
        }, Math.max(10, request.timeoutMs / 4));
        idle.unref();
        sink.on('drain', onDrain);
        sink.once('finish', () => report({ bytes }));
        sink.once('close', () => fail('CLIENT_CLOSED', 'the client went away during the streamed response'));
        incoming.on('data', onData);
        incoming.once('end', () => {
          ended = true;
          sink.end();
        });
        incoming.once('close', () => {
          if (!incoming.complete) fail('UPSTREAM_UNREACHABLE', CUT_SHORT);
        });
        incoming.once('error', () => fail('UPSTREAM_UNREACHABLE', CUT_SHORT));
        for (const chunk of prefix) sink.write(chunk);
        incoming.resume();
      }),
  };
};

/** Writes the pieces in one go (one writev) and ends; resolves once the client has it all, or has gone. */
const held = (chunks: Buffer[], size: number): StreamedBody => ({
  length: size,
  discard: () => undefined,
  pipeTo: (sink: Writable) =>
    new Promise<StreamOutcome>((resolve) => {
      sink.once('finish', () => resolve({ bytes: size }));
      sink.once('close', () => resolve({ bytes: size, error: 'CLIENT_CLOSED', detail: 'the client went away before the answer was delivered' }));
      sink.cork();
      for (const chunk of chunks) sink.write(chunk);
      sink.end();
    }),
});

/** The servers' bodies, with the default cap on streams. */
export const serverBodies: ServerBodies = createServerBodies();
