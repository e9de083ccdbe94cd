// `create`: from a bundle to an init blocked on exec.fifo, with nothing left behind on failure.
//
// Order matters for cleanup: the state directory (with phase "creating") exists before
// anything else is made, so a runtime killed at any point leaves a container that
// `delete --force` can remove completely: its cgroup is a function of the recorded spec, the
// init dies on its own when the sync socket closes, and everything the init mounted lives in
// the init's own mount namespace.
import { closeSync, rmSync } from 'node:fs';
import { cgroupManager, ignoreKernelMemory, withDefaultDevices } from '../cgroups/index.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { RuntimeError, UsageError, withContext } from '../errors.js';
import { runHooks, runHooksWarn } from '../hooks/run.js';
import { mkfifo } from '../kernel/files.js';
import { waitReadableWarm, warmCgroupLock } from '../process/cgroup-warm.js';
import { abandon, launchInit, type LaunchOptions, type Launched } from '../process/launch.js';
import { takePrelaunched } from '../process/prelaunch.js';
import { buildInitConfig, type CreateOptions } from '../process/plan.js';
import { receive, send, type FromInit } from '../process/protocol.js';
import { loadBundle } from '../spec/bundle.js';
import { checkConfig } from '../spec/check.js';
import { ociState, type PersistedState, readProcStat } from './state.js';
import { Store, validateId, writeAtomic } from './store.js';
import { trace } from '../trace.js';

export interface CreateRequest extends CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  /** The init's stdio (default: ours). */
  stdio?: [number, number, number];
}

export interface Created {
  state: PersistedState;
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

  const dir = store.createDir(id);
  const cgroupSpec = { id, cgroupsPath: config.linux?.cgroupsPath, systemd: req.systemdCgroup };
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
  let hooksBegun = false;
  const warnings: string[] = [];
  try {
    // The init first: its Node start-up (~20 ms) overlaps our cgroup and plan work below.
    // Usually main.ts already spawned it with these very options (prelaunch.ts).
    const pidNs = (config.linux?.namespaces ?? []).find((n) => n.type === 'pid');
    const launch: LaunchOptions = {
      pidNamespace: pidNs ? { path: pidNs.path } : null,
      stdio: req.stdio ?? [0, 1, 2],
      preserveFds: req.preserveFds ?? 0,
      ...(config.process.terminal && req.consoleSocket ? { consoleSocket: req.consoleSocket } : {}),
    };
    launched = takePrelaunched(launch) ?? launchInit(launch);
    trace('create: init spawned');
    state.pid = launched.pid;
    state.pidStartTime = readProcStat(launched.pid)?.startTime ?? '';
    dir.write(state);
    dir.writeConfig(config);
    cgroups = cgroupManager(cgroupSpec);
    // runc's default device rules (null, zero, tty, ptmx, pts...) follow the config's own, as
    // runc always adds them: without them /dev/null or the console's pty cannot be opened.
    const resources = config.linux?.resources ?? {};
    const kmem = ignoreKernelMemory(resources);
    if (kmem) warnings.push(kmem);
    cgroups.create({ ...resources, devices: withDefaultDevices(resources.devices, config.linux?.devices) });
    // What create() made and where, so that later commands find (and delete removes) exactly that.
    state.cgroup = cgroups.record();
    dir.write(state);
    const fifo = store.fifoPath(id);
    mkfifo(fifo, 0o622);

    const initConfig = buildInitConfig(config, { ...req, id, bundle, rootfs, fifoPath: fifo, cgroups }, warnings);
    trace('create: cgroups made, init config planned');
    // Warm the cgroup migration lock for the init's join while it boots (cgroup-warm.ts); not
    // earlier: a warming write holds cgroup_mutex through its grace period, which would stall
    // our own cgroup creation above.
    warmCgroupLock();

    send(launched.sync, { type: 'config', config: initConfig });
    waitReadableWarm(launched.sync);
    expect(launched, 'namespaces');
    const hookState = { ...ociState(state, 'creating') };
    hooksBegun = true;
    runHooks('prestart', config.hooks?.prestart, hookState);
    runHooks('createRuntime', config.hooks?.createRuntime, hookState);
    send(launched.sync, { type: 'continue' });
    waitReadableWarm(launched.sync);
    expect(launched, 'ready');
    trace('create: init ready');
    closeSync(launched.sync);

    state.phase = 'created';
    dir.write(state);
    const pidFile = req.pidFile;
    if (pidFile) withContext(`--pid-file ${pidFile}`, () => writeAtomic(pidFile, String(launched!.pid)));
    dir.unlock();
    return { state, launched, warnings };
  } catch (e) {
    if (launched) abandon(launched);
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
    if (hooksBegun) {
      const failed = runHooksWarn('poststop', config.hooks?.poststop, ociState(state, 'stopped'));
      if (failed.length && e instanceof Error) Object.assign(e, { warnings: failed });
    }
    dir.remove();
    throw e;
  }
}

function expect(l: Launched, type: FromInit['type']): void {
  const msg = receive<FromInit>(l.sync);
  if (!msg) throw new RuntimeError('container init exited unexpectedly');
  if (msg.type === 'error') throw new RuntimeError(msg.message);
  if (msg.type !== type) throw new RuntimeError(`init protocol: expected ${type}, got ${msg.type}`);
}
