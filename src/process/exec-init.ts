// The exec helper: becomes a new process of a running (or created) container, under its own
// pid, as `runc exec` does with its setns init.
//
// The runtime spawned it (child_process.spawn: Node never forks itself) already in the
// container's PID namespace and in a throwaway "launch" mount namespace where the node binary
// is a read-only bind mount, so that while we are inside the container, /proc/<our pid>/exe
// names a read-only mount and the host's node can never be opened for writing through it
// (CVE-2019-5736). Not dumpable until execve. Then:
//   1. read the ExecConfig from the sync socket;
//   2. open the container's cgroup.procs files (host paths: only reachable before we leave
//      the host's mount tree);
//   3. join the container's namespaces from the fds the runtime opened on /proc/<init>/ns/*,
//      mount last (after unshare(CLONE_FS), as setns(CLONE_NEWNS) requires); our root and cwd
//      are then the container's root;
//   4. process.terminal: a pty from the container's devpts, slave as 0/1/2 and controlling
//      terminal (we lead our own session), master sent down the console socket;
//   5. rlimits, oom_score_adj, find the executable in the container's PATH;
//   6. tell the runtime `exec`; join the cgroup (late: little of our memory is charged to it),
//      switch credentials/capabilities/no_new_privs (finalize.ts, shared with the init),
//      load seccomp, execve in place.
import { closeSync, writeSync } from 'node:fs';
import { errorLine, RuntimeError, withContext, wrap } from '../errors.js';
import { KernelError } from '../kernel/ffi.js';
import { fsError, O_CLOEXEC, O_WRONLY, open, writeFile } from '../kernel/files.js';
import { CLONE_FS, CLONE_NEWNS, setns, unshare } from '../kernel/ns.js';
import { ignoreSignal, prctl, PR_SET_DUMPABLE, setrlimit, SIGUSR1 } from '../kernel/process.js';
import { applySeccomp } from '../security/seccomp-load.js';
import { confineOtherThreads, startThreadPool } from './confine-threads.js';
import { setUpConsole } from './console.js';
import { receiveMessage, sendMessage, type ExecConfig, type ToExec } from './exec-protocol.js';
import { finalizeAndExec, lookPath } from './finalize.js';

export function execInitMain(syncFd: number, launchMntFd: number): never {
  // Not dumpable: the container's processes cannot ptrace us or open our /proc files while we
  // hold host resources (execve makes the new program dumpable again).
  prctl(PR_SET_DUMPABLE, 0);
  ignoreSignal(SIGUSR1); // no inspector for whoever can signal us (kernel/process.ts)
  startThreadPool(); // before the main thread's unshare(CLONE_FS): see confine-threads.ts
  let cfg: ExecConfig | undefined;
  try {
    // We stay in the launch mount namespace until we join the container's; the host one is not needed.
    closeSync(launchMntFd);
    const msg = receiveMessage<ToExec>(syncFd);
    if (!msg || msg.type !== 'config') process.exit(1); // the runtime went away
    cfg = msg.config;
    const path = setUp(cfg);
    sendMessage(syncFd, { type: 'exec' });
    const cgroupFds = openedCgroups;
    finalizeAndExec(cfg.process, path, {
      preserveFds: cfg.preserveFds,
      beforeCredentials: () => {
        joinCgroup(cfg!, cgroupFds);
        applySeccomp(cfg!.seccomp, 'before-credentials');
      },
      beforeExec: () => applySeccomp(cfg!.seccomp, 'before-exec'),
    });
  } catch (e) {
    try {
      sendMessage(syncFd, { type: 'error', message: errorLine(e), ...(e instanceof KernelError ? { code: e.code } : {}) });
    } catch {
      try {
        writeSync(2, `mydocker-runc exec: ${errorLine(e)}\n`);
      } catch {
        /* nowhere to report */
      }
    }
    process.exit(1);
  }
}

let openedCgroups: number[] = [];

function setUp(cfg: ExecConfig): string {
  // 2. The cgroup files, while the host's /sys/fs/cgroup is still in view.
  openedCgroups = cfg.cgroupProcs.map((file) => {
    try {
      return open(file, O_WRONLY | O_CLOEXEC);
    } catch (e) {
      throw wrap(e, `join cgroup ${file.slice(0, file.lastIndexOf('/'))}`);
    }
  });

  // 3. Namespaces; the mount namespace last (it also gives us the container's root and cwd).
  let mountJoined = false;
  for (const ns of cfg.namespaces) {
    if (ns.flag === CLONE_NEWNS) {
      unshare(CLONE_FS, 'CLONE_FS');
      setns(ns.fd, ns.flag, 'the container mount namespace');
      mountJoined = true;
    } else {
      setns(ns.fd, ns.flag, `the container ${ns.type} namespace`);
    }
    closeSync(ns.fd);
  }

  if (mountJoined) confineOtherThreads();

  // 4. The terminal, in the container's devpts.
  const p = cfg.process;
  if (p.terminal) {
    if (cfg.consoleFd < 0) throw new RuntimeError('process.terminal: no console socket to send the terminal to');
    setUpConsole(cfg.consoleFd, { size: p.consoleSize, mountConsole: false });
  } else if (cfg.consoleFd >= 0) closeSync(cfg.consoleFd);

  // 5. Limits, then the executable (a missing one fails here, reported by the runtime).
  const adj = p.oomScoreAdj;
  if (adj !== undefined) withContext(`process.oomScoreAdj ${adj}`, () => writeFile('/proc/self/oom_score_adj', String(adj)));
  for (const r of p.rlimits) {
    try {
      setrlimit(r.resource, r.soft, r.hard, r.name);
    } catch (e) {
      throw wrap(e, `process.rlimits ${r.name} (soft ${r.soft}, hard ${r.hard})`);
    }
  }
  if (!p.args.length) throw new RuntimeError('process.args: must not be empty');
  return lookPath(p.args[0]!, p.env);
}

/** Write our pid ("0": the writer) into every cgroup.procs of the container. */
function joinCgroup(cfg: ExecConfig, fds: number[]): void {
  fds.forEach((fd, i) => {
    try {
      writeSync(fd, '0');
    } catch (e) {
      const file = cfg.cgroupProcs[i] ?? '';
      throw wrap(fsError(e, file), `join cgroup ${file.slice(0, file.lastIndexOf('/'))}`);
    }
    closeSync(fd);
  });
}
