// mydocker's errors. Like the runtime's, each is one line with its context; the CLI prints it
// once and exits with the error's code — docker's: 125 when mydocker itself fails (a flag, an
// image, a conflict), 126 when the container's command cannot be invoked, 127 when it is not
// found. The container's own exit status is never an error.
import { RuntimeError } from '../errors.js';

export { wrap, errorLine } from '../errors.js';

/** A failure of mydocker itself: exit 125, as docker. */
export class MydockerError extends RuntimeError {
  override exitCode = 125;
}

/** Bad input (a flag, a file, a reference); nothing was changed. */
export class InputError extends MydockerError {}

/** No such container / image / volume / network: docker's phrase, e.g. "No such image: foo". */
export class NotFoundError extends MydockerError {
  constructor(kind: 'container' | 'image' | 'volume' | 'network' | 'object', ref: string) {
    super(`No such ${kind}: ${ref}`);
  }
}

/** A name already in use, an image in use by a container, a running container without -f… */
export class ConflictError extends MydockerError {}

/** The container's command could not be run (exit 126: not executable; 127: not found). */
export class CommandError extends RuntimeError {
  constructor(message: string, code: 126 | 127) {
    super(message);
    this.exitCode = code;
  }
}

/**
 * A failed system call as one line with its context: "write /var/lib/…/tmp/x: no space left
 * on device (ENOSPC)" instead of Node's bare "ENOSPC: no space left on device, write" (which
 * names no file). Anything but a system error comes back as it is.
 */
export function systemError(context: string, e: unknown): unknown {
  const sys = e as NodeJS.ErrnoException | null;
  const code = sys?.code ?? '';
  if (!(e instanceof Error) || !/^E[A-Z0-9]+$/.test(code) || !sys?.syscall) return e;
  const reason = e.message.replace(/^E[A-Z0-9]+: /, '').replace(/, \w+( '.*')?$/, '');
  return new MydockerError(`${context}: ${reason} (${code})`, { cause: e });
}
