// The container's init: PID 1 of the new PID namespace until it execve()s the user's process.
//
// It is spawned by the runtime (child_process.spawn: Node must never fork itself) already in
// the new PID namespace and in a private "launch" mount namespace where the node binary is a
// read-only bind mount (so a container process can never reopen /proc/1/exe for writing and
// overwrite the host's node: CVE-2019-5736). It then:
//   1. reads its InitConfig from the sync socket;
//   2. returns to the host's mount namespace and unshares/joins the config's namespaces;
//   3. tells the runtime, which runs prestart/createRuntime hooks, and waits for it;
//   4. builds the rootfs (mounts, devices), runs createContainer hooks, joins the cgroup,
//      pivot_roots, masks paths, sets hostname and sysctls, finds the executable;
//   5. reports `ready` and blocks on exec.fifo until `start` opens it;
//   6. runs startContainer hooks, switches user, capabilities, no_new_privs, seccomp, and
//      execve()s process.args.
// Errors before `ready` go to the runtime as one line; after it, to the container's stderr.
import { closeSync, writeSync } from 'node:fs';
import { errorLine, RuntimeError, withContext, wrap } from '../errors.js';
import { KernelError } from '../kernel/ffi.js';
import { open, O_CLOEXEC, O_PATH, O_WRONLY, writeFile } from '../kernel/files.js';
import { CLONE_FS, CLONE_NEWCGROUP, CLONE_NEWNS, setns, unshare } from '../kernel/ns.js';
import { NAMESPACES } from '../spec/tables.js';
import {
  exitOnSignal,
  getpid,
  ignoreSignal,
  prctl,
  PR_SET_DUMPABLE,
  setdomainname,
  sethostname,
  setrlimit,
  SIGHUP,
  SIGINT,
  SIGQUIT,
  SIGTERM,
  SIGUSR1,
} from '../kernel/process.js';
import { runHooks } from '../hooks/run.js';
import {
  createDevices,
  createDevSymlinks,
  enterRoot,
  maskPaths,
  mountAll,
  prepareRoot,
  readonlyPaths,
  readonlyRoot,
} from '../rootfs/apply.js';
import { confineOtherThreads, startThreadPool } from './confine-threads.js';
import { setUpConsole } from './console.js';
import { applySeccomp } from '../security/seccomp-load.js';
import { finalizeAndExec, lookPath } from './finalize.js';
import type { InitConfig } from './init-config.js';
import { receive, send, type ToInit } from './protocol.js';
import { trace } from '../trace.js';

export { lookPath };

/** Our end of exec.fifo once `start` has opened it (closed by execve). */
let startedFd = -1;

/** `consoleFd`: the connected console socket (process.terminal), or -1. */
export function initMain(syncFd: number, hostMntFd: number, consoleFd = -1): never {
  // Not dumpable: a process exec'd into the container cannot ptrace us or read our /proc
  // files while we still hold host resources.
  prctl(PR_SET_DUMPABLE, 0);
  // Node's SIGUSR1 handler would open its inspector to whoever can signal us (kernel/process.ts).
  ignoreSignal(SIGUSR1);
  startThreadPool(); // before the main thread's unshare(CLONE_FS): see confine-threads.ts
  let ready = false;
  try {
    const msg = receive<ToInit>(syncFd);
    if (!msg || msg.type !== 'config') process.exit(1); // the runtime went away
    const cfg = msg.config;
    trace('config received');
    const fifoFd = setUp(cfg, syncFd, hostMntFd, consoleFd);
    send(syncFd, { type: 'ready' });
    ready = true;
    closeSync(syncFd);
    // A created container ends on TERM, INT, HUP and QUIT, as runc's waiting init does.
    for (const sig of [SIGTERM, SIGINT, SIGHUP, SIGQUIT]) exitOnSignal(sig);
    startedFd = waitForStart(fifoFd);
    trace('started');
    startProcess(cfg);
  } catch (e) {
    const line = errorLine(e);
    if (!ready) {
      try {
        send(syncFd, { type: 'error', message: line });
      } catch {
        /* runtime gone */
      }
    } else {
      // `start` is reading exec.fifo until we exec: tell it why we will not (it reports the
      // line once); the container's stderr only when start is gone.
      let told = false;
      if (startedFd >= 0) {
        try {
          writeSync(startedFd, line);
          told = true;
        } catch {
          /* start went away */
        }
      }
      if (!told) {
        try {
          writeSync(2, `mydocker-runc: ${line}\n`);
        } catch {
          /* no stderr */
        }
      }
    }
    process.exit(e instanceof KernelError && e.code === 'ENOENT' ? 127 : e instanceof KernelError && e.code === 'EACCES' ? 126 : 1);
  }
}

function waitFor(syncFd: number, type: 'continue'): void {
  const msg = receive<ToInit>(syncFd);
  if (!msg) process.exit(1);
  if (msg.type !== type) throw new RuntimeError(`init protocol: expected ${type}, got ${msg.type}`);
}

/** Everything up to `ready`; returns the O_PATH fd of exec.fifo. */
function setUp(cfg: InitConfig, syncFd: number, hostMntFd: number, consoleFd: number): number {
  // 1. Namespaces. Back to the host's mount namespace first (we were born in the launch one),
  //    then create or join. setns(CLONE_NEWNS) needs an fs_struct of our own.
  unshare(CLONE_FS, 'CLONE_FS');
  setns(hostMntFd, CLONE_NEWNS, 'host mount namespace');
  closeSync(hostMntFd);
  let cgroupNs: { path?: string } | undefined;
  let newFlags = 0;
  const newTypes: string[] = [];
  for (const ns of cfg.namespaces) {
    if (ns.type === 'cgroup') {
      cgroupNs = ns; // after joining the cgroup, so that it is the namespace's root
      continue;
    }
    const info = NAMESPACES[ns.type];
    if (!info?.supported || ns.type === 'pid') throw new RuntimeError(`linux.namespaces: ${ns.type} namespaces are not supported here`);
    const flag = info.flag;
    if (ns.path) {
      withContext(`linux.namespaces ${ns.type} path ${ns.path}`, () => {
        const fd = open(ns.path!, 0 | O_CLOEXEC);
        try {
          setns(fd, flag);
        } finally {
          closeSync(fd);
        }
      });
    } else {
      newFlags |= flag;
      newTypes.push(ns.type);
    }
  }
  if (newFlags) withContext(`linux.namespaces ${newTypes.join(', ')}`, () => unshare(newFlags, 'new namespaces'));
  trace('namespaces made');
  send(syncFd, { type: 'namespaces' });
  waitFor(syncFd, 'continue');

  // 2. The rootfs.
  let fifoFd = -1;
  fifoFd = open(cfg.fifoPath, O_PATH | O_CLOEXEC);
  if (cfg.mountNamespace) {
    prepareRoot(cfg);
    mountAll(cfg, cfg.mounts);
    if (cfg.devices.length) createDevices(cfg, cfg.devices);
    if (cfg.devSymlinks) createDevSymlinks(cfg);
  }
  const state = { ...cfg.hookState, pid: getpid() };
  runHooks('createContainer', cfg.hooks.createContainer, state);
  // Node's other threads into the rootfs (the same directory, seen from the namespace they
  // stayed in), before anything of the container can run, and before the cgroup join so that
  // the work is not charged to the container.
  if (cfg.mountNamespace) confineOtherThreads(cfg.rootfs, cfg.rootfs);

  // 3. The cgroup, as late as possible: memory the init has touched so far stays charged to
  //    the runtime's cgroup, so a limit only has to fit the container's own process.
  trace('rootfs mounted');
  if (typeof globalThis.gc === 'function') globalThis.gc();
  for (const file of cfg.cgroupProcs) {
    withContext(`join cgroup ${file.slice(0, file.lastIndexOf('/'))}`, () => writeFile(file, '0'));
  }
  trace('cgroups joined');
  if (cgroupNs) {
    const path = cgroupNs.path;
    if (path) {
      withContext(`linux.namespaces cgroup path ${path}`, () => {
        const fd = open(path, O_CLOEXEC);
        try {
          setns(fd, CLONE_NEWCGROUP);
        } finally {
          closeSync(fd);
        }
      });
    } else withContext('linux.namespaces cgroup', () => unshare(CLONE_NEWCGROUP, 'new namespace'));
  }

  if (cfg.mountNamespace) enterRoot(cfg);
  // The terminal, now that /dev/ptmx is the container's own devpts and before the rootfs
  // turns read-only (runc's order): the slave becomes our 0/1/2, so the runtime's stdio is
  // no longer held by the time `create` returns.
  if (cfg.process.terminal && consoleFd >= 0) {
    setUpConsole(consoleFd, { size: cfg.process.consoleSize, mountConsole: true });
  }
  const { hostname, domainname } = cfg;
  if (hostname !== undefined) withContext(`hostname ${JSON.stringify(hostname)}`, () => sethostname(hostname));
  if (domainname !== undefined) withContext(`domainname ${JSON.stringify(domainname)}`, () => setdomainname(domainname));
  // Sysctls before readonlyPaths: /proc/sys is usually one of them.
  for (const [key, value] of Object.entries(cfg.sysctl)) {
    withContext(`linux.sysctl ${key}=${JSON.stringify(value)}`, () => writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value));
  }
  if (cfg.mountNamespace) {
    readonlyPaths(cfg.readonlyPaths);
    maskPaths(cfg.maskedPaths);
    if (cfg.rootReadonly) readonlyRoot();
  }
  const p = cfg.process;
  const adj = p.oomScoreAdj;
  if (adj !== undefined) withContext(`process.oomScoreAdj ${adj}`, () => writeFile('/proc/self/oom_score_adj', String(adj)));
  for (const r of p.rlimits) {
    try {
      setrlimit(r.resource, r.soft, r.hard, r.name);
    } catch (e) {
      throw wrap(e, `process.rlimits ${r.name} (soft ${r.soft}, hard ${r.hard})`);
    }
  }
  // Resolve the executable now, so that a missing one fails `create` as in runc.
  resolvedPath = lookPath(p.args[0]!, p.env);
  trace('ready');
  return fifoFd;
}

let resolvedPath = '';

/** Block until `start` opens exec.fifo for reading, then tell it we are going. */
/**
 * Block until `start` opens exec.fifo for reading, write "0", and keep our end open: it is
 * close-on-exec, so `start` sees EOF exactly when execve() succeeds — and reads our error
 * line instead when something fails on the way (a startContainer hook, the exec itself).
 */
function waitForStart(fifoFd: number): number {
  // Opening through /proc/self/fd reopens the FIFO we resolved before pivot_root; O_WRONLY
  // blocks until a reader (start) opens it.
  let fd: number;
  for (;;) {
    try {
      fd = open(`/proc/self/fd/${fifoFd}`, O_WRONLY | O_CLOEXEC);
      break;
    } catch (e) {
      if (e instanceof KernelError && e.code === 'EINTR') continue;
      throw e;
    }
  }
  writeSync(fd, '0');
  closeSync(fifoFd);
  return fd;
}

function startProcess(cfg: InitConfig): never {
  const p = cfg.process;
  runHooks('startContainer', cfg.hooks.startContainer, { ...cfg.hookState, status: 'running', pid: getpid() });

  finalizeAndExec(p, resolvedPath, {
    preserveFds: cfg.preserveFds,
    // seccomp: before the credentials without no_new_privs (needs CAP_SYS_ADMIN), else last.
    beforeCredentials: () => applySeccomp(cfg.seccomp, 'before-credentials'),
    beforeExec: () => applySeccomp(cfg.seccomp, 'before-exec'),
  });
}
