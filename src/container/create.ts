// `create`: from a bundle to an init blocked on exec.fifo, with nothing left behind on failure.
//
// Order matters for cleanup: the state directory (with phase "creating") exists before
// anything else is made, so a runtime killed at any point leaves a container that
// `delete --force` can remove completely: its cgroup is a function of the recorded spec, the
// init dies on its own when the sync socket closes, and everything the init mounted lives in
// the init's own mount namespace (or, without one, is recorded as it is made).
import { chmodSync, closeSync, rmSync } from 'node:fs';
import { cgroupManager, ignoreKernelMemory, withDefaultDevices } from '../cgroups/index.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { RuntimeError, UsageError, withContext } from '../errors.js';
import { runHooks, runHooksWarn } from '../hooks/run.js';
import { mkfifo, writeFile } from '../kernel/files.js';
import { connectConsoleSocket } from '../process/console.js';
import { waitReadableWarm, warmCgroupLock } from '../process/cgroup-warm.js';
import type { InitConfig, UserNamespacePlan } from '../process/init-config.js';
import { abandon, launchInit, reapLauncher, type LaunchOptions, type Launched } from '../process/launch.js';
import { receiveFrame, sendContinue, sendPlan } from '../process/native/protocol.js';
import { buildInitConfig, type CreateOptions } from '../process/plan.js';
import { createPlan } from '../process/steps.js';
import { loadBundle } from '../spec/bundle.js';
import { checkConfig } from '../spec/check.js';
import type { LinuxResources } from '../spec/generated/types.js';
import { unmountRecorded } from './host-mounts.js';
import { ociState, type PersistedState, readProcStat } from './state.js';
import { Store, validateId, writeAtomic } from './store.js';
import { trace } from '../trace.js';

export interface CreateRequest extends CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  /** The init's stdio (default: ours). */
  stdio?: [number, number, number];
  /**
   * Rootless mode (`--rootless`): no cgroup of the container's own (an unprivileged runtime
   * cannot make one), id maps limited to the runtime's own ids. Default: when not root.
   */
  rootless?: boolean;
}

export interface Created {
  state: PersistedState;
  /**
   * The launch: `launched.pid` is the container's process (our child until we exit: its exit
   * status is `launched.wait()`); `launched.child` is the launcher, which has already exited.
   */
  launched: Launched;
  /** What was not applied exactly as asked; the CLI logs them. */
  warnings: string[];
}

export function create(store: Store, req: CreateRequest): Created {
  const id = validateId(req.id);
  const { bundle, config, rootfs } = loadBundle(req.bundle);
  checkConfig(config);
  trace('create: config loaded and checked');
  if (!config.process) throw new UsageError('config.json: /process: is required to create a container');
  if (req.preserveFds !== undefined && (!Number.isInteger(req.preserveFds) || req.preserveFds < 0)) {
    throw new UsageError(`--preserve-fds ${req.preserveFds}: must be a non-negative integer`);
  }
  const unprivileged = (process.geteuid?.() ?? 0) !== 0;
  const rootless = req.rootless ?? unprivileged;
  const warnings: string[] = [];
  const resources = config.linux?.resources ?? {};
  const kmem = ignoreKernelMemory(resources);
  if (kmem) warnings.push(kmem);
  if (rootless) rootlessResources(resources, warnings);

  const dir = store.createDir(id);
  const cgroupSpec = { id, cgroupsPath: config.linux?.cgroupsPath, systemd: req.systemdCgroup, ...(rootless ? { none: true } : {}) };
  const state: PersistedState = {
    version: 1,
    id,
    ociVersion: config.ociVersion,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    phase: 'creating',
    pid: 0,
    pidStartTime: '',
    annotations: config.annotations,
    cgroup: cgroupSpec,
    namespaces: Object.fromEntries((config.linux?.namespaces ?? []).map((n) => [n.type, n.path ?? ''])),
    hooks: { poststart: config.hooks?.poststart, poststop: config.hooks?.poststop },
    owner: '',
    pidNamespace: (config.linux?.namespaces ?? []).some((n) => n.type === 'pid'),
    terminal: config.process.terminal ?? false,
  };
  let cgroups: CgroupManager | undefined;
  let launched: Launched | undefined;
  let consoleFd = -1;
  const progress = { hooksBegun: false };
  try {
    // The init first: its start-up (a millisecond) overlaps our cgroup and plan work below.
    const launch: LaunchOptions = { stdio: req.stdio ?? [0, 1, 2], preserveFds: req.preserveFds ?? 0 };
    launched = launchInit(launch);
    trace('create: init spawned');
    // The launcher's pid until the container's process exists: a runtime killed meanwhile
    // leaves something `delete --force` can find.
    recordPid(state, launched.pid);
    dir.write(state);
    dir.writeConfig(config);
    cgroups = cgroupManager(cgroupSpec);
    // runc's default device rules (null, zero, tty, ptmx, pts...) follow the config's own, as
    // runc always adds them: without them /dev/null or the console's pty cannot be opened.
    cgroups.create({ ...resources, devices: withDefaultDevices(resources.devices, config.linux?.devices) });
    trace('create: cgroups made');
    // What create() made and where, so that later commands find (and delete removes) exactly that.
    state.cgroup = cgroups.record();
    // Start warming the cgroup migration lock now (cgroup-warm.ts): its grace period passes
    // while we write the plan, so the init's join finds it warm.
    warmCgroupLock();
    dir.write(state);
    const fifo = store.fifoPath(id);
    mkfifo(fifo, 0o622);
    // Whatever our umask: the init opens it for writing after dropping to the process's user.
    chmodSync(fifo, 0o622);
    if (config.process.terminal && req.consoleSocket) consoleFd = connectConsoleSocket(req.consoleSocket);

    trace('create: fifo made');
    const initConfig = buildInitConfig(
      config,
      { ...req, id, bundle, rootfs, fifoPath: fifo, ...(rootless ? {} : { cgroups }), unprivileged },
      warnings,
    );
    const plan = createPlan(initConfig, consoleFd >= 0 ? { console: consoleFd } : {});
    trace('create: init planned');
    // Warm the cgroup migration lock for the init's join while it works (cgroup-warm.ts); not
    // earlier: a warming write holds cgroup_mutex through its grace period, which would stall
    // our own cgroup creation above.
    warmCgroupLock();
    sendPlan(launched.sync, plan);
    if (consoleFd >= 0) closeSync(consoleFd);
    consoleFd = -1;
    converse(launched, state, initConfig, config.hooks, (s) => dir.write(s), progress);
    trace('create: init ready');
    closeSync(launched.sync);

    state.phase = 'created';
    dir.write(state);
    const pidFile = req.pidFile;
    if (pidFile) withContext(`--pid-file ${pidFile}`, () => writeAtomic(pidFile, String(launched!.pid)));
    dir.unlock();
    return { state, launched, warnings };
  } catch (e) {
    if (consoleFd >= 0) closeSync(consoleFd);
    if (launched) abandon(launched);
    unmountRecorded(state.hostMounts);
    try {
      cgroups?.destroy();
    } catch {
      /* best effort: the error that brought us here is the one to report */
    }
    rmSync(store.fifoPath(id), { force: true });
    // The spec's lifecycle: a failed create goes on to destroy the container and run the
    // poststop hooks (runc does the same). What a prestart or createRuntime hook set up (a CNI
    // ADD: veth, rules, address) is undone by its poststop counterpart. Their failures are
    // warnings, printed before the error. Still under the container's lock: a new container
    // of the same id must not start before they are done.
    if (progress.hooksBegun) {
      const failed = runHooksWarn('poststop', config.hooks?.poststop, ociState(state, 'stopped'));
      if (failed.length && e instanceof Error) Object.assign(e, { warnings: failed });
    }
    dir.remove();
    throw e;
  }
}

function recordPid(state: PersistedState, pid: number): void {
  state.pid = pid;
  state.pidStartTime = readProcStat(pid)?.startTime ?? '';
}

/** The init's side of create, frame by frame, until it reports ready (native/protocol.ts). */
function converse(
  launched: Launched,
  state: PersistedState,
  cfg: InitConfig,
  hooks: { prestart?: unknown; createRuntime?: unknown } | undefined,
  save: (s: PersistedState) => void,
  progress: { hooksBegun: boolean },
): void {
  for (;;) {
    waitReadableWarm(launched.sync);
    const f = receiveFrame(launched.sync);
    if (!f) throw new RuntimeError('container init exited unexpectedly');
    if (f.type === 'error') throw new RuntimeError(f.message);
    if (f.type === 'pid') {
      launched.pid = f.pid;
      reapLauncher(launched);
      recordPid(state, f.pid);
      save(state);
    } else if (f.type === 'sync' && f.tag === 'userns') {
      writeIdMaps(launched.launcherPid, cfg.userNamespace!);
      sendContinue(launched.sync);
    } else if (f.type === 'sync' && f.tag === 'namespaces') {
      // prestart (deprecated) and createRuntime: in the runtime's namespaces, once the
      // container's exist (they need /proc/<pid>/ns/*).
      const hookState = ociState(state, 'creating');
      progress.hooksBegun = true;
      runHooks('prestart', (hooks?.prestart as never) ?? undefined, hookState);
      runHooks('createRuntime', (hooks?.createRuntime as never) ?? undefined, hookState);
      sendContinue(launched.sync);
    } else if (f.type === 'report' && f.tag === 'ready') {
      return;
    } else if (f.type === 'report' && f.tag.startsWith('mount ')) {
      const m = /^mount (\d+) (.+)$/.exec(f.tag);
      if (m) (state.hostMounts ??= []).push({ id: Number(m[1]), path: m[2]! });
      save(state);
    } else {
      throw new RuntimeError(`init protocol: unexpected ${f.type} ${'tag' in f ? f.tag : ''}`);
    }
  }
}

/**
 * The maps of the user namespace the launcher just created (/proc/<pid>/uid_map, gid_map),
 * written from outside as runc does; setgroups is denied first when the runtime is not root
 * (the kernel requires it before an unprivileged gid_map).
 */
function writeIdMaps(pid: number, u: UserNamespacePlan): void {
  if (u.setgroupsDeny) withContext('linux.gidMappings (setgroups deny)', () => writeFile(`/proc/${pid}/setgroups`, 'deny'));
  // One write(2) each: the kernel takes a map whole or not at all.
  withContext('linux.uidMappings', () => writeFile(`/proc/${pid}/uid_map`, u.uidMap));
  withContext('linux.gidMappings', () => writeFile(`/proc/${pid}/gid_map`, u.gidMap));
}

/**
 * A rootless container has no cgroup: limits would be silently ignored, so they are refused
 * by name; the device rules (which a user namespace enforces anyway: no mknod) are dropped
 * with a warning.
 */
function rootlessResources(r: LinuxResources, warnings: string[]): void {
  for (const [key, value] of Object.entries(r)) {
    if (key === 'devices' || value === undefined || value === null) continue;
    if (typeof value === 'object' && !Array.isArray(value) && !Object.keys(value).length) continue;
    if (Array.isArray(value) && !value.length) continue;
    throw new UsageError(`config.json: /linux/resources/${key}: a rootless container has no cgroup of its own to apply it in (an unprivileged runtime cannot make one)`);
  }
  warnings.push(
    r.devices?.length
      ? 'rootless: the container has no cgroup of its own (an unprivileged runtime cannot make one); linux.resources.devices not applied (its user namespace cannot create device nodes anyway)'
      : 'rootless: the container has no cgroup of its own (an unprivileged runtime cannot make one)',
  );
  delete r.devices;
}
