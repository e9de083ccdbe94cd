// Process attributes: credentials, prctl, limits, signals, fds and execve(2).
import { check, KernelError, koffi, libcFn, syscallNumber } from './ffi.js';

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
export const PR_SET_KEEPCAPS = 8;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_GET_NO_NEW_PRIVS = 39;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_RAISE = 2;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

export function prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
  const fn = libcFn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
  return check(fn(option, arg2, arg3, arg4, arg5), 'prctl', String(option));
}

export function setsid(): number {
  return check(libcFn('int setsid()')(), 'setsid');
}

export function getpid(): number {
  return libcFn('int getpid()')() as number;
}

export function kill(pid: number, signal: number): void {
  check(libcFn('int kill(int pid, int sig)')(pid, signal), 'kill', `pid ${pid}`);
}

// glibc's set*id wrappers change every thread's credentials (POSIX semantics), which is
// what we want before execve.
export function setresuid(r: number, e: number, s: number): void {
  check(libcFn('int setresuid(uint32 r, uint32 e, uint32 s)')(r, e, s), 'setresuid', String(e));
}
export function setresgid(r: number, e: number, s: number): void {
  check(libcFn('int setresgid(uint32 r, uint32 e, uint32 s)')(r, e, s), 'setresgid', String(e));
}
export function setgroups(gids: number[]): void {
  check(libcFn('int setgroups(size_t n, const uint32 *gids)')(gids.length, gids), 'setgroups', gids.join(','));
}

export function umask(mask: number): number {
  return libcFn('uint32 umask(uint32 mask)')(mask) as number;
}

export function sethostname(name: string): void {
  check(libcFn('int sethostname(const char *name, size_t len)')(name, Buffer.byteLength(name)), 'sethostname', name);
}
export function setdomainname(name: string): void {
  check(libcFn('int setdomainname(const char *name, size_t len)')(name, Buffer.byteLength(name)), 'setdomainname', name);
}

const RLIM_INFINITY = 0xffffffffffffffffn;
const rlimitStruct = () => koffi.struct('mdr_rlimit', { cur: 'uint64', max: 'uint64' });
let rlimitType: ReturnType<typeof rlimitStruct> | undefined;

/** setrlimit through prlimit(2) on ourselves; values are bigint-safe (2^64-1 is infinity). */
export function setrlimit(resource: number, soft: number | bigint, hard: number | bigint, name = String(resource)): void {
  rlimitType ??= rlimitStruct();
  const fn = libcFn('int prlimit(int pid, int resource, const mdr_rlimit *nl, _Out_ mdr_rlimit *ol)');
  const clamp = (v: number | bigint) => (BigInt(v) >= RLIM_INFINITY ? RLIM_INFINITY : BigInt(v));
  check(fn(0, resource, { cur: clamp(soft), max: clamp(hard) }, null), 'setrlimit', name);
}

export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;

export function setCloexec(fd: number, on: boolean): void {
  const fcntl = libcFn('int fcntl(int fd, int cmd, ...)');
  const flags = check(fcntl(fd, F_GETFD), 'fcntl', `F_GETFD ${fd}`);
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (next !== flags) check(fcntl(fd, F_SETFD, 'int', next), 'fcntl', `F_SETFD ${fd}`);
}

const F_DUPFD_CLOEXEC = 1030;

/** A close-on-exec duplicate of `fd` (the lowest free number). */
export function dupCloexec(fd: number): number {
  return check(libcFn('int fcntl(int fd, int cmd, ...)')(fd, F_DUPFD_CLOEXEC, 'int', 0), 'fcntl', `F_DUPFD_CLOEXEC ${fd}`);
}

export function dup2(oldfd: number, newfd: number): void {
  check(libcFn('int dup2(int oldfd, int newfd)')(oldfd, newfd), 'dup2', `${oldfd} -> ${newfd}`);
}

export function close(fd: number): void {
  libcFn('int close(int fd)')(fd);
}

/** execve(2) in place. Returns only by throwing. */
export function execve(path: string, argv: string[], envp: string[]): never {
  const fn = libcFn('int execve(const char *path, const char **argv, const char **envp)');
  fn(path, [...argv, null], [...envp, null]);
  check(-1, 'exec', JSON.stringify(path));
  throw new Error('unreachable');
}

export function pidfdOpen(pid: number): number {
  const sc = libcFn('long syscall(long number, ...)');
  return check(sc(syscallNumber('pidfd_open'), 'int', pid, 'unsigned int', 0), 'pidfd_open', `pid ${pid}`);
}

export function pidfdSendSignal(pidfd: number, signal: number): void {
  const sc = libcFn('long syscall(long number, ...)');
  check(
    sc(syscallNumber('pidfd_send_signal'), 'int', pidfd, 'int', signal, 'void *', null, 'unsigned int', 0),
    'pidfd_send_signal',
  );
}

export const POLLIN = 0x1;
const pollfdStruct = () => koffi.struct('mdr_pollfd', { fd: 'int', events: 'short', revents: 'short' });
let pollfdType: ReturnType<typeof pollfdStruct> | undefined;

/** poll(2) on one fd; returns the revents (0 on timeout). */
export function pollOne(fd: number, events: number, timeoutMs: number): number {
  pollfdType ??= pollfdStruct();
  const fn = libcFn('int poll(_Inout_ mdr_pollfd *fds, unsigned long n, int timeout)');
  const pfd = { fd, events, revents: 0 };
  const n = check(fn(pfd, 1, timeoutMs), 'poll');
  return n === 0 ? 0 : pfd.revents;
}

/** waitpid(2), blocking: reap a child we killed so its cgroup can be removed (a zombie keeps it busy). */
export function waitpid(pid: number): number {
  const status = [0];
  for (;;) {
    const r = libcFn('int waitpid(int pid, _Out_ int *status, int options)')(pid, status, 0) as number;
    if (r >= 0) return status[0]!;
    const e = koffi.errno();
    if (e === 4) continue; // EINTR
    if (e === 10) return -1; // ECHILD: already reaped
    check(-1, 'waitpid', `pid ${pid}`);
  }
}

/** A wait status as a shell reports it: the exit code, or 128+signal. */
export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  return sig === 0 ? (status >> 8) & 0xff : 128 + sig;
}

/**
 * Wait for a child libuv did not spawn (the container's process, which the native init forks
 * with CLONE_PARENT), without blocking: on every SIGCHLD, waitpid(WNOHANG). (Not a blocking
 * waitpid on libuv's threadpool: process.exit() joins those threads, and would hang on one.)
 * Keeps the event loop alive until the child is reaped. Resolves the exit code (128+signal),
 * or -1 when it is not our child.
 */
export function waitpidAsync(pid: number): Promise<number> {
  const fn = libcFn('int waitpid(int pid, _Out_ int *status, int options)');
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const check = () => {
      const status = [0];
      const r = fn(pid, status, WNOHANG) as number;
      if (r === 0) return; // still running
      if (r < 0 && koffi.errno() === 4) return; // EINTR: the next SIGCHLD, or this one again
      process.removeListener('SIGCHLD', check);
      clearInterval(keepAlive);
      resolve(r === pid ? exitCodeOf(status[0]!) : -1);
    };
    process.on('SIGCHLD', check);
    check();
  });
}

const WNOHANG = 1;

const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const MFD_EXEC = 0x10;
const F_ADD_SEALS = 1033;
const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;
const F_SEAL_WRITE = 0x8;

/**
 * A close-on-exec memfd holding `data`, sealed against any change (F_SEAL_WRITE, SHRINK, GROW,
 * and SEAL itself): an executable nobody can modify, whoever gets hold of it.
 */
export function memfdSealed(name: string, data: Buffer): number {
  const create = libcFn('int memfd_create(const char *name, unsigned int flags)');
  let fd = create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC) as number;
  if (fd < 0) fd = check(create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), 'memfd_create', name); // before Linux 6.3
  try {
    const write = libcFn('long write(int fd, const void *buf, unsigned long n)');
    for (let off = 0; off < data.length; ) off += check(write(fd, data.subarray(off), data.length - off), 'write', `memfd ${name}`);
    const fcntl = libcFn('int fcntl(int fd, int cmd, ...)');
    check(fcntl(fd, F_ADD_SEALS, 'int', F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE), 'fcntl', `F_ADD_SEALS memfd ${name}`);
  } catch (e) {
    close(fd);
    throw e;
  }
  return fd;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;

export interface SpawnOptions {
  /** [child fd, our fd]: what the child gets at each number (every other fd of ours that is not close-on-exec stays open too). */
  fds: [number, number][];
  env: string[];
  /** The child leads a new session (setsid). */
  setsid?: boolean;
}

/**
 * posix_spawn(3): glibc's runs only C code in the child (clone with CLONE_VM|CLONE_VFORK, so
 * no copy of our page tables either), so this is not a fork from JavaScript — and it costs
 * ~1 ms where node:child_process costs ~4 ms to load and ~3 ms to fork a Node-sized process.
 * Every signal starts at its default disposition, none blocked (Node ignores SIGPIPE).
 * Returns the pid; the caller reaps it (waitpid).
 */
export function spawnProcess(path: string, argv: string[], opts: SpawnOptions): number {
  const faInit = libcFn('int posix_spawn_file_actions_init(void *fa)');
  const faDup2 = libcFn('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)');
  const faClose = libcFn('int posix_spawn_file_actions_addclose(void *fa, int fd)');
  const faDestroy = libcFn('int posix_spawn_file_actions_destroy(void *fa)');
  const attrInit = libcFn('int posix_spawnattr_init(void *attr)');
  const attrFlags = libcFn('int posix_spawnattr_setflags(void *attr, short flags)');
  const attrSigmask = libcFn('int posix_spawnattr_setsigmask(void *attr, void *set)');
  const attrSigdef = libcFn('int posix_spawnattr_setsigdefault(void *attr, void *set)');
  const attrDestroy = libcFn('int posix_spawnattr_destroy(void *attr)');
  const sigemptyset = libcFn('int sigemptyset(void *set)');
  const sigfillset = libcFn('int sigfillset(void *set)');
  const spawn = libcFn('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)');
  const fa = Buffer.alloc(256);
  const attr = Buffer.alloc(512);
  const set = Buffer.alloc(128);
  faInit(fa);
  attrInit(attr);
  try {
    // Through numbers above every fd involved, so that no move clobbers a source still to
    // come, and no dup2(fd, fd) leaves a close-on-exec flag set.
    const base = Math.max(...opts.fds.flat(), 2) + 1;
    opts.fds.forEach(([, ours], i) => faDup2(fa, ours, base + i));
    opts.fds.forEach(([child], i) => faDup2(fa, base + i, child));
    opts.fds.forEach((_, i) => faClose(fa, base + i));
    attrFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.setsid ? POSIX_SPAWN_SETSID : 0));
    sigemptyset(set);
    attrSigmask(attr, set);
    sigfillset(set);
    attrSigdef(attr, set);
    const pid = [0];
    const rc = spawn(pid, path, fa, attr, [...argv, null], [...opts.env, null]) as number;
    if (rc !== 0) throw new KernelError('posix_spawn', rc, path);
    return pid[0]!;
  } finally {
    faDestroy(fa);
    attrDestroy(attr);
  }
}
