// The last steps before a container process starts, shared by the init (`create`/`start`) and
// the exec helper (`exec`): find the executable, trim the fds, switch credentials and
// capabilities, set no_new_privs, and execve() in place, so that the process keeps the pid
// its caller already reported (the pid file, the shim's wait4).
//
// Credentials and capability sets are per thread: all of this runs on Node's main thread,
// which is the one that execve()s (the other threads die with the old image).
import { accessSync, closeSync, constants as fsc, fstatSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { RuntimeError, withContext, wrap } from '../errors.js';
import { chdir } from '../kernel/mount.js';
import {
  execve,
  prctl,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  resetIgnoredSignals,
  setCloexec,
  setgroups,
  setresgid,
  setresuid,
  umask,
} from '../kernel/process.js';
import { applyBounding, applyCapabilities } from '../security/capabilities.js';
import { applyExecLabels } from '../security/lsm.js';
import { CAPABILITIES } from '../spec/tables.js';
import type { Capabilities, ProcessPlan } from './init-config.js';
import { trace, traceRss } from '../trace.js';

/** Find `file` like execvp, with the container's PATH, inside the caller's root (the container's). */
export function lookPath(file: string, env: string[]): string {
  const check = (path: string): boolean => {
    try {
      const st = statSync(path);
      if (!st.isFile()) return false;
      accessSync(path, fsc.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (file.includes('/')) {
    if (check(file)) return file;
    // runc's words (and docker's exit codes: 127 for a missing file, 126 for one that cannot run).
    let exists = false;
    try {
      statSync(file);
      exists = true;
    } catch {
      /* missing */
    }
    throw new RuntimeError(
      exists ? `exec: ${JSON.stringify(file)}: permission denied` : `exec: ${JSON.stringify(file)}: stat ${file}: no such file or directory`,
    );
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    const candidate = `${dir || '.'}/${file}`;
    if (check(candidate)) return candidate;
  }
  throw new RuntimeError(`exec: ${JSON.stringify(file)}: executable file not found in $PATH`);
}

export interface FinalizeOptions {
  /** fds 3 .. 3+preserveFds-1 survive execve along with 0-2; every other fd is closed by it. */
  preserveFds: number;
  /**
   * Runs while we still hold every privilege, right before the bounding set and credentials
   * change (seccomp without no_new_privs needs CAP_SYS_ADMIN; the exec helper joins the
   * container's cgroup here, as late as it can while still root).
   */
  beforeCredentials?: () => void;
  /** Runs last, right before execve (seccomp with no_new_privs: as few syscalls after it as possible). */
  beforeExec?: () => void;
}

/** Our /proc status, or '' in a container without /proc (resetIgnoredSignals then resets the ones Node ignores). */
function procStatus(): string {
  try {
    return readFileSync('/proc/thread-self/status', 'utf8');
  } catch {
    return '';
  }
}

/** Apply the process's credentials, capabilities and no_new_privs, then execve `path`. */
export function finalizeAndExec(p: ProcessPlan, path: string, opts: FinalizeOptions): never {
  // Only 0-2 and --preserve-fds survive execve (Node marks 0-2 close-on-exec: clear that).
  const keep = 3 + opts.preserveFds;
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd >= keep) {
      try {
        setCloexec(fd, true);
      } catch {
        /* the fd of the directory listing itself */
      }
    } else setCloexec(fd, false);
  }

  // Signals Node (or we) ignore would stay ignored in the container's process.
  resetIgnoredSignals(procStatus());
  const env = withHome(p.env, p.uid);
  opts.beforeCredentials?.();
  applyExecLabels(p.apparmorProfile, p.selinuxLabel);
  const caps = p.capabilities;
  if (caps) withContext('process.capabilities.bounding', () => applyBounding(caps.bounding));
  // Credentials: groups, gid, uid; keep the permitted set across the uid change so that
  // the capabilities below can still be applied.
  withContext(`process.user.additionalGids [${p.additionalGids.join(', ')}]`, () => setgroups(p.additionalGids));
  prctl(PR_SET_KEEPCAPS, 1);
  withContext(`process.user.gid ${p.gid}`, () => setresgid(p.gid, p.gid, p.gid));
  withContext(`process.user.uid ${p.uid}`, () => setresuid(p.uid, p.uid, p.uid));
  prctl(PR_SET_KEEPCAPS, 0);
  withContext(`process.cwd ${p.cwd}`, () => chdir(p.cwd));
  if (p.umask !== undefined) umask(p.umask);
  if (caps) {
    try {
      applyCapabilities(caps);
    } catch (e) {
      throw wrap(e, capabilityContext(caps));
    }
  }
  if (p.noNewPrivileges) withContext('process.noNewPrivileges', () => prctl(PR_SET_NO_NEW_PRIVS, 1));
  opts.beforeExec?.();
  traceRss('before execve');
  trace('execve');
  execve(path, p.args, env);
}

/**
 * runc's rule for HOME: when process.env has none (or an empty one), the home of the
 * process's uid in the container's /etc/passwd, "/" without an entry or a file. Read from
 * inside the container (our root is its root by now), never following a FIFO into a block.
 */
export function withHome(env: string[], uid: number): string[] {
  if (env.some((e) => e.startsWith('HOME=') && e.length > 5)) return env;
  let home = '/';
  let fd = -1;
  try {
    fd = openSync('/etc/passwd', fsc.O_RDONLY | fsc.O_NONBLOCK);
    if (fstatSync(fd).isFile()) home = homeFromPasswd(readFileSync(fd, 'utf8'), uid) ?? '/';
  } catch {
    /* no passwd: "/" */
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  return [...env.filter((e) => !e.startsWith('HOME=')), `HOME=${home}`];
}

/** The home directory of the first passwd entry with `uid` (name:pass:uid:gid:gecos:home:shell). */
export function homeFromPasswd(text: string, uid: number): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f[2] !== undefined && /^\d+$/.test(f[2]) && Number(f[2]) === uid) return f[5] ?? '';
  }
  return undefined;
}

/**
 * What a failed capset names: the capabilities asked for that this process does not hold (a
 * capability the host cannot grant, such as CAP_SYS_RESOURCE in this sandbox).
 */
function capabilityContext(caps: Capabilities): string {
  let held: bigint | undefined;
  try {
    const m = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'));
    if (m) held = BigInt(`0x${m[1]}`);
  } catch {
    /* no /proc in the container */
  }
  if (held === undefined) return 'process.capabilities';
  const names = Object.fromEntries(Object.entries(CAPABILITIES).map(([k, v]) => [v, k]));
  for (const set of ['permitted', 'effective', 'inheritable', 'ambient'] as const) {
    const missing = caps[set].filter((c) => !((held! >> BigInt(c)) & 1n)).map((c) => names[c] ?? `capability ${c}`);
    if (missing.length) return `process.capabilities.${set}: ${missing.join(', ')} not held by the runtime`;
  }
  return 'process.capabilities';
}
