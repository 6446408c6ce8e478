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
