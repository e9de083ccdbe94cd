// Errors are values that carry their context; the CLI prints them once, as one line.
//
// A RuntimeError's message is already the whole line a user sees, e.g.
//   config.json: /process/args: must NOT have fewer than 1 items
//   mount proc on /run/x/rootfs/proc: Operation not permitted (EPERM)
// `wrap` prefixes context on the way up ("create c1: ...") without losing the cause.

export class RuntimeError extends Error {
  /** Process exit code the CLI should use (1 unless a verb says otherwise). */
  exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: a config field, a CLI argument, a process.json. Nothing was changed on the host. */
export class UsageError extends RuntimeError {}

/** A config.json / process.json / resources.json that fails the schema or a cross-field rule. */
export class ConfigError extends UsageError {}

/** The container does not exist (runc's phrase, which containerd matches on). */
export class NotExistError extends RuntimeError {
  constructor(id: string) {
    super(`container ${id} does not exist`);
  }
}

/** A lifecycle verb refused by the container's current status. */
export class StateError extends RuntimeError {}

/** A feature of the spec that this build does not implement; never silently ignored. */
export class UnsupportedError extends RuntimeError {}

/** Prefix `context` to an error's message, keeping its class and cause. */
export function wrap(err: unknown, context: string): Error {
  if (err instanceof Error) {
    err.message = `${context}: ${err.message}`;
    return err;
  }
  return new RuntimeError(`${context}: ${String(err)}`);
}

/** The one line a user sees for any thrown value. */
export function errorLine(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}

/** Run `fn`; a failure comes back with `context` (the spec field and its value) in front. */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw wrap(e, context);
  }
}
