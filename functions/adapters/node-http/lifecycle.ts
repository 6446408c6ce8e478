import type http from 'node:http';

// Stopping a server without cutting calls short: once told to stop (SIGTERM, or FC's PreStop hook), it
// takes no new connections, answers what is in flight, closes each connection as its answer ends, and
// reports when nothing is left or the grace period is over, whichever comes first.

export interface Drain {
  /** Calls in flight, not counting any passed to `drain` as its own (the PreStop request). */
  inFlight(): number;
  /** Stops taking calls and resolves true once the rest have been answered, false if `graceMs` ran out. */
  drain(graceMs: number, own?: http.IncomingMessage): Promise<boolean>;
}

export function drainable(server: http.Server): Drain {
  const open = new Set<http.ServerResponse>();
  let draining = false;
  /** Each pending `drain` call's resolve; PreStop and then SIGTERM may both wait. */
  const waiting: (() => void)[] = [];
  let own: http.IncomingMessage | undefined;
  const count = () => open.size - (own !== undefined && [...open].some((res) => res.req === own) ? 1 : 0);

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    // A call that arrives on a kept-alive connection while draining is still answered, then the connection closes.
    if (draining) res.shouldKeepAlive = false;
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      if (count() === 0) waiting.splice(0).forEach((done) => done());
    });
  });

  return {
    inFlight: count,
    drain(graceMs, request) {
      own ??= request;
      if (!draining) {
        draining = true;
        // No new connections; idle kept-alive ones close now, busy ones once their answer is out.
        server.close();
        server.closeIdleConnections();
        for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
      }
      if (count() === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), graceMs);
        waiting.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}

/**
 * On SIGTERM (and SIGINT, for a terminal): drain within `graceMs`, run `after`, and exit. The process
 * is `exec`ed by the bootstraps, so the signal reaches Node itself and nothing is left behind.
 */
export function stopOnSignals(server: http.Server, drain: Drain, graceMs: number, after: () => Promise<void> | void = () => undefined): void {
  let stopping = false;
  const stop = () => {
    // A second signal while draining changes nothing (Node's default would kill the process at once).
    if (stopping) return;
    stopping = true;
    drain.drain(graceMs).then(async (answeredAll) => {
      // Calls cut short by the grace period leave no request line: say how many there were.
      if (!answeredAll) process.stderr.write(`{"time":"${new Date().toISOString()}","level":"warn","event":"shutdown","cut":${drain.inFlight()},"graceMs":${graceMs}}\n`);
      await after();
      server.closeAllConnections();
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
