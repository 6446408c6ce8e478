import { environment, required, SettingsError, type Env } from './settings';

// Create-or-update, the same way for every resource: read it, then create it if it is missing or
// update it if it is there, so a second run updates and never duplicates. With --dry-run nothing is
// sent: each call that a real run could make is printed instead.

export interface Call {
  /** What is sent, as a reader would write it: `PUT /services/mp-relay`. */
  describe: string;
  body?: unknown;
  run(): Promise<unknown>;
}

export interface Resource {
  /** `service mp-relay`, `function get`. */
  label: string;
  read: Call;
  create: Call;
  update: Call;
  /** The read failed because the resource does not exist (any other failure stops the deploy). */
  isMissing(error: unknown): boolean;
}

export interface Runner {
  ensure(resource: Resource): Promise<'created' | 'updated' | 'planned'>;
}

export function createRunner(options: { dryRun: boolean; print: (line: string) => void }): Runner {
  const { dryRun, print } = options;
  const show = (call: Call, prefix = '') => {
    print(`${prefix}${call.describe}`);
    if (call.body !== undefined) print(`${prefix}  ${JSON.stringify(call.body)}`);
  };
  return {
    async ensure(resource) {
      if (dryRun) {
        print(`# ${resource.label}`);
        show(resource.read);
        show(resource.create, 'if missing: ');
        show(resource.update, 'if present: ');
        return 'planned';
      }
      try {
        await resource.read.run();
      } catch (error) {
        if (!resource.isMissing(error)) throw error;
        show(resource.create);
        await resource.create.run();
        return 'created';
      }
      show(resource.update);
      await resource.update.run();
      return 'updated';
    },
  };
}

/** Bodies as printed: long or secret strings are replaced by what they are. */
export function redact(body: Record<string, unknown>, secretKeys: readonly string[] = []): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(body, (key, value: unknown) => {
      if (typeof value !== 'string') return value;
      if (secretKeys.includes(key)) return `<${key}: ${value.length} characters, not shown>`;
      return value.length > 200 ? `<${value.length} characters>` : value;
    }),
  );
}

export interface DeployTarget<P> {
  /** `deploy:aliyun`: prefixes every message. */
  name: string;
  /** Reads the plan from the settings; throws SettingsError for a bad or missing one. */
  readPlan(env: Env, argv: string[]): P;
  /** Needed for a real run only: a dry run prints calls and sends nothing. */
  credentials: Record<string, string>;
  /** The first line printed: where it deploys to. */
  describe(plan: P, env: Env): string;
  resources(plan: P, credentials: Record<string, string> | undefined, env: Env): Resource[];
  /**
   * A read-only call made before anything is created: throws a PreflightError naming what is wrong
   * when the account or region cannot take the deploy, so a run never stops half-way for that.
   */
  preflight?: { describe: string; run(plan: P, credentials: Record<string, string>, env: Env): Promise<void> };
  done(plan: P, env: Env): string;
}

/** The account or region cannot serve this deploy; nothing has been created. */
export class PreflightError extends Error {}

/** The command-line flow both deploy scripts share: settings, credentials, create-or-update, exit code. */
export function runDeploy<P>(target: DeployTarget<P>, argv = process.argv.slice(2)): void {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const fail = (message: string) => {
    process.stderr.write(`${target.name}: ${message}\n`);
    process.exit(1);
  };
  const main = async () => {
    const dryRun = argv.includes('--dry-run');
    const env = environment();
    let plan: P;
    let credentials: Record<string, string> | undefined;
    try {
      plan = target.readPlan(env, argv);
      credentials = dryRun ? undefined : required(env, target.credentials);
    } catch (error) {
      if (error instanceof SettingsError) return fail(error.message);
      throw error;
    }
    print(`${dryRun ? 'Dry run: nothing is sent. ' : ''}${target.describe(plan, env)}`);
    if (target.preflight) {
      if (dryRun) print(`# first, a check that changes nothing\n${target.preflight.describe}`);
      else {
        try {
          await target.preflight.run(plan, credentials!, env);
        } catch (error) {
          if (error instanceof PreflightError) return fail(`${error.message}\nNothing was created or changed.`);
          throw error;
        }
      }
    }
    const runner = createRunner({ dryRun, print });
    for (const resource of target.resources(plan, credentials, env)) {
      const outcome = await runner.ensure(resource);
      if (!dryRun) print(`  ${outcome}: ${resource.label}`);
    }
    if (!dryRun) print(`\n${target.done(plan, env)}`);
    process.exit(0);
  };
  main().catch((error: unknown) => fail(`failed: ${error instanceof Error ? error.message : String(error)}`));
}
