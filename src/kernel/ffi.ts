// The one door to the kernel: koffi, libc, and errors that carry errno, call and path.
//
// Every syscall wrapper in src/kernel/ goes through `libcFn` (a lazily declared libc
// function) and `check` (turns -1 + errno into a KernelError). Nothing outside src/kernel/
// imports koffi.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';

// koffi is loaded on first use, not when this module is evaluated: `state`, `list`, `ps`,
// `spec`, `features` and `--version` never call into libc and so skip it (~2 ms each).
//
// koffi's index module costs ~5 ms of start-up (it loads node:util and probes the ELF header
// of node to pick a prebuilt binary); the prebuilt native module alone is ~1 ms. The bundles
// of dist/ know where it is: src/build/build.mjs resolves it at build time and defines
// __MDR_KOFFI_NODE__ (its path relative to dist/), so process.dlopen() takes it without the
// CommonJS loader's node_modules search (~1 ms more). Elsewhere (build/, a moved dist/), the
// package is resolved as usual, and its index is the last resort.
type Koffi = typeof import('koffi');
type KoffiFunction = ReturnType<ReturnType<Koffi['load']>['func']>;
declare const __MDR_KOFFI_NODE__: string | undefined;
const require = createRequire(import.meta.url);
function loadKoffi(): Koffi {
  if (typeof __MDR_KOFFI_NODE__ === 'string') {
    try {
      const mod = { exports: {} };
      process.dlopen(mod, fileURLToPath(new URL(__MDR_KOFFI_NODE__, import.meta.url)));
      return mod.exports as Koffi;
    } catch {
      /* not where the build found it: resolve it */
    }
  }
  const triplet = `${process.platform}_${process.arch}`;
  try {
    return require(`@koromix/koffi-${process.platform}-${process.arch}/${triplet}/koffi.node`) as Koffi;
  } catch {
    return require('koffi') as Koffi;
  }
}

let koffiModule: Koffi | undefined;
let libcHandle: ReturnType<Koffi['load']> | undefined;
const loadedKoffi = (): Koffi => (koffiModule ??= loadKoffi());
const libc = () => (libcHandle ??= loadedKoffi().load('libc.so.6'));

/** koffi, for the kernel modules (structs, addresses, errno); loaded on the first property read. */
export const koffi: Koffi = new Proxy({} as Koffi, { get: (_target, key) => Reflect.get(loadedKoffi(), key) });

const declared = new Map<string, KoffiFunction>();

/** A libc function, declared once on first use (declaring costs ~10 µs each). */
export function libcFn(prototype: string): KoffiFunction {
  let fn = declared.get(prototype);
  if (!fn) {
    fn = libc().func(prototype);
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
  return loadedKoffi().errno();
}

/**
 * Check a libc return value: -1 (or a negative number for raw syscalls) means failure, and
 * errno is read right away, before any other call can clobber it.
 */
export function check(ret: number | bigint, syscall: string, detail?: string): number {
  const n = Number(ret);
  if (n < 0) throw new KernelError(syscall, loadedKoffi().errno(), detail);
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

// Raw syscall numbers for the calls glibc 2.36 does not wrap. Since Linux 5.1 new syscalls
// get one number on every architecture; the older ones differ.
const SYSCALLS_SINCE_5_1: Record<string, number> = {
  pidfd_send_signal: 424,
  pidfd_open: 434,
  openat2: 437,
  mount_setattr: 442,
};
const SYSCALLS_PER_ARCH: Record<string, Record<string, number>> = {
  x64: { pivot_root: 155, seccomp: 317, bpf: 321 },
  arm64: { pivot_root: 41, seccomp: 277, bpf: 280 },
};

export function syscallNumber(name: string): number {
  const n = SYSCALLS_SINCE_5_1[name] ?? SYSCALLS_PER_ARCH[process.arch]?.[name];
  if (n === undefined) throw new Error(`syscall ${name}: unknown number on ${process.arch}`);
  return n;
}
