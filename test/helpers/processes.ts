import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

// Built artefacts run as users run them: a child process, its banner read for the loopback address.

const DIST = path.join(__dirname, '..', '..', 'dist');

/** A built file; fails with a clear message when `npm run build` has not been run (npm test runs it). */
export function built(...parts: string[]): string {
  const file = path.join(DIST, ...parts);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does)`);
  return file;
}

export interface Started {
  child: ChildProcessWithoutNullStreams;
  base: string;
  output: () => string;
  /** Stops the process and waits until it has gone. */
  stop(): Promise<void>;
}

/** Spawns `command args` with only `env` (plus PATH) and resolves once it prints `listening on http://...`. */
export function startListening(command: string, args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, base: match[1]!, output: () => output, stop });
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`${path.basename(args[0] ?? command)} exited with ${code}: ${output}`)));
  });
}

export type BundleHandler = (...args: unknown[]) => unknown;

/** Loads dist/<fn>/index.js afresh with `env` as its process environment, as a new instance would. */
export function loadBundle(fn: string, env: Record<string, string>): { handler: BundleHandler; main_handler: BundleHandler } {
  const saved = process.env;
  process.env = { ...env };
  try {
    let loaded: { handler: BundleHandler; main_handler: BundleHandler } | undefined;
    jest.isolateModules(() => {
      loaded = require(built(fn, 'index.js'));
    });
    return loaded!;
  } finally {
    process.env = saved;
  }
}
