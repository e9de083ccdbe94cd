// The last steps before a container process starts, shared by the init (`create`/`start`) and
// the exec helper (`exec`): find the executable, trim the fds, switch credentials and
// capabilities, set no_new_privs, and execve() in place, so that the process keeps the pid
// its caller already reported (the pid file, the shim's wait4).
//
// Credentials and capability sets are per thread: all of this runs on Node's main thread,
// which is the one that execve()s (the other threads die with the old image).
import { accessSync, constants as fsc, readdirSync, statSync } from 'node:fs';
import { RuntimeError, wrap } from '../errors.js';
import { chdir } from '../kernel/mount.js';
import {
  execve,
  prctl,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  setCloexec,
  setgroups,
  setresgid,
  setresuid,
  umask,
} from '../kernel/process.js';
import { applyBounding, applyCapabilities } from '../security/capabilities.js';
import { applyExecLabels } from '../security/lsm.js';
import type { ProcessPlan } from './init-config.js';
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

  opts.beforeCredentials?.();
  applyExecLabels(p.apparmorProfile, p.selinuxLabel);
  if (p.capabilities) applyBounding(p.capabilities.bounding);
  // Credentials: groups, gid, uid; keep the permitted set across the uid change so that
  // the capabilities below can still be applied.
  setgroups(p.additionalGids);
  prctl(PR_SET_KEEPCAPS, 1);
  setresgid(p.gid, p.gid, p.gid);
  setresuid(p.uid, p.uid, p.uid);
  prctl(PR_SET_KEEPCAPS, 0);
  try {
    chdir(p.cwd);
  } catch (e) {
    throw wrap(e, 'process.cwd');
  }
  if (p.umask !== undefined) umask(p.umask);
  if (p.capabilities) applyCapabilities(p.capabilities);
  if (p.noNewPrivileges) prctl(PR_SET_NO_NEW_PRIVS, 1);
  opts.beforeExec?.();
  traceRss('before execve');
  trace('execve');
  execve(path, p.args, p.env);
}
