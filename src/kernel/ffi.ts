// The one door to the kernel: koffi, libc, and errors that carry errno, call and path.
//
// Every syscall wrapper in src/kernel/ goes through `libcFn` (a lazily declared libc
// function) and `check` (turns -1 + errno into a KernelError). Nothing outside src/kernel/
// imports koffi.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

// koffi's index module costs ~5 ms of start-up (it loads node:util and probes the ELF
// header of node to pick a prebuilt binary). Loading the prebuilt native module directly
// takes ~1.5 ms; fall back to the package entry when the layout is not the one we know.
type Koffi = typeof import('koffi');
type KoffiFunction = ReturnType<ReturnType<Koffi['load']>['func']>;
const require = createRequire(import.meta.url);
function loadKoffi(): Koffi {
  const triplet = `${process.platform}_${process.arch}`;
  try {
    return require(`@koromix/koffi-${process.platform}-${process.arch}/${triplet}/koffi.node`) as Koffi;
  } catch {
    return require('koffi') as Koffi;
  }
}

export const koffi: Koffi = loadKoffi();
const libc = koffi.load('libc.so.6');

const declared = new Map<string, KoffiFunction>();

/** A libc function, declared once on first use (declaring costs ~10 µs each). */
export function libcFn(prototype: string): KoffiFunction {
  let fn = declared.get(prototype);
  if (!fn) {
    fn = libc.func(prototype);
    declared.set(prototype, fn);
  }
  return fn;
}

const errnoNames: Record<number, string> = {};
for (const [name, num] of Object.entries(osConstants.errno)) errnoNames[num] ??= name;

const strerrorFn = () => libcFn('const char *strerror(int errnum)');

export class KernelError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly detail?: string,
  ) {
    const text = strerrorFn()(errno) as string;
    super(`${syscall}${detail ? ` ${detail}` : ''}: ${text} (${errnoNames[errno] ?? `errno ${errno}`})`);
    this.name = 'KernelError';
  }
  /** errno's symbolic name, e.g. 'ENOENT'. */
  get code(): string {
    return errnoNames[this.errno] ?? `E${this.errno}`;
  }
}

export function errno(): number {
  return koffi.errno();
}

/**
 * Check a libc return value: -1 (or a negative number for raw syscalls) means failure, and
 * errno is read right away, before any other call can clobber it.
 */
export function check(ret: number | bigint, syscall: string, detail?: string): number {
  const n = Number(ret);
  if (n < 0) throw new KernelError(syscall, koffi.errno(), detail);
  return n;
}

/** Run `fn`, retrying while it fails with EINTR. */
export function retryEintr<T>(fn: () => T): T {
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (e instanceof KernelError && e.errno === osConstants.errno.EINTR) continue;
      throw e;
    }
  }
}

// Raw syscall numbers for the calls glibc 2.36 does not wrap.
const SYSCALLS: Record<string, Record<string, number>> = {
  x64: {
    pivot_root: 155,
    seccomp: 317,
    bpf: 321,
    pidfd_send_signal: 424,
    pidfd_open: 434,
    open_tree: 428,
    move_mount: 429,
    openat2: 437,
    mount_setattr: 442,
  },
  arm64: {
    pivot_root: 41,
    seccomp: 277,
    bpf: 280,
    pidfd_send_signal: 424,
    pidfd_open: 434,
    open_tree: 428,
    move_mount: 429,
    openat2: 437,
    mount_setattr: 442,
  },
};

export function syscallNumber(name: string): number {
  const n = SYSCALLS[process.arch]?.[name];
  if (n === undefined) throw new Error(`syscall ${name}: unknown number on ${process.arch}`);
  return n;
}
