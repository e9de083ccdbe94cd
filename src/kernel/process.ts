// Process attributes: credentials, prctl, limits, signals, fds and execve(2).
import { check, koffi, libcFn, syscallNumber } from './ffi.js';

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

export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGUSR1 = 10;
export const SIGTERM = 15;

const SIG_IGN = 1;
const signalFn = () => libcFn('uintptr_t signal(int sig, uintptr_t handler)');

/**
 * Ignore `sig` at the C level. Node's own SIGUSR1 handler starts the inspector (a debugger
 * on 127.0.0.1:9229 of whatever network namespace we are in): a process of the container
 * could signal a waiting init and then drive it. execve() keeps SIG_IGN, so the caller
 * restores SIG_DFL before exec'ing the container's process.
 */
export function ignoreSignal(sig: number): void {
  signalFn()(sig, SIG_IGN);
}

/** Back to the default disposition (before execve: the container's process starts clean). */
export function defaultSignal(sig: number): void {
  signalFn()(sig, 0);
}

/**
 * Make `sig` end the process at once, from any thread, with _exit(sig) as the C handler: no
 * JavaScript runs in signal context. A PID 1 only receives signals it has a handler for, so
 * this is what lets `kill <id> TERM` end a created container's waiting init, as it ends
 * runc's (whose Go runtime exits on TERM, INT, HUP and QUIT). execve() resets it.
 */
export function exitOnSignal(sig: number): void {
  const exit = libcFn('void *dlsym(void *handle, const char *symbol)')(null, '_exit');
  if (!exit) throw new Error('dlsym _exit: not found');
  signalFn()(sig, koffi.address(exit));
}

/**
 * Every signal this process ignores, back to SIG_DFL: ignored dispositions survive execve, and
 * Node ignores SIGPIPE and SIGXFSZ (and we SIGUSR1). A container's process starts with none
 * ignored, as under runc (`yes | head` must end `yes` with SIGPIPE).
 */
export function resetIgnoredSignals(statusText: string): void {
  const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(statusText);
  // Without /proc: the ones Node and we ignore (SIGUSR1, SIGPIPE, SIGXFSZ).
  const mask = m ? BigInt(`0x${m[1]}`) : (1n << 9n) | (1n << 12n) | (1n << 24n);
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === 9 || sig === 19) continue; // SIGKILL, SIGSTOP: never ignorable
    if ((mask >> BigInt(sig - 1)) & 1n) defaultSignal(sig);
  }
}
