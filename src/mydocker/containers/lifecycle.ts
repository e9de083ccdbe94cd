// Containers through their life: create, start (monitor + runtime), stop, kill, cleanup after
// exit, remove. Every step is ordered so that a mydocker killed at any point leaves something
// the next command (or `rm -f`) can finish: the record is written before what it describes is
// made, cleanup is idempotent, and removal unmounts before it deletes.
import { spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { ensureInRoot, openRoot, resolveInRoot } from '../../rootfs/safe-path.js';
import { join } from 'node:path';
import { parseSignal } from '../../spec/tables.js';
import type { Engine } from '../engine.js';
import { CommandError, ConflictError, InputError, MydockerError } from '../errors.js';
import { trace } from '../../trace.js';
import { crashPoint } from '../crash.js';
import { emitExit, emitKill, emitUnrecordedExit } from '../events/container.js';
import { emitContainer } from '../events/journal.js';
import { lockSync, type Release } from '../fs/locks.js';
import { removeTree } from '../fs/remove.js';
import type { Image } from '../images/types.js';
import { extraHostEntries, hostHostnameText, hostsLines, hostsText, readHost, resolvConfText, writeInPlace } from './etc-files.js';
import { joined, networksAtCreate, prepareStart, releaseNetworks } from '../network/container.js';
import { closeAll } from '../network/ports.js';
import { execFailureCode, monitorPid, readExitFile, runtimeMessage, startMonitor, type Monitor } from './monitor.js';
import { bytesFlag, containerSpec, type RunFlags } from './options.js';
import { initialState, type ContainerRecord, type MountPoint } from './record.js';
import { startHealthChecker, stopHealthChecker } from './health.js';
import { cancelPendingRestart, decideRestart, isMonitor, isWaiter, resetForManualStart } from './restart.js';
import { containerLower, createRootfsDirs, mountRootfs, rootfsDirs, unmountRootfs } from './rootfs.js';
import { buildSpec, INIT_BINARY, processArgs, type HostDevice, type ResolvedMount } from './spec.js';
import { exitDir, liveState } from './status.js';
import { generatedName, newId, shortId, validateName } from './store.js';
import { resolveGroupAdd, resolveUser } from './users.js';
import { joinedNamespaces, resolveSharedModes, type Joined } from './shared-ns.js';
import { acquireVolume, releaseVolume } from '../volumes/driver.js';
import type { Volume } from '../volumes/store.js';

export interface CreateResult {
  record: ContainerRecord;
  warnings: string[];
}

/**
 * `create`: the record, volumes and rootfs directories; nothing runs yet. The image store is
 * held from before the image was resolved (`hold`, the caller's) until the record names it, so
 * an `rmi` cannot take its layers in between.
 */
export async function createContainer(engine: Engine, imageRef: string, image: Image, command: string[], flags: RunFlags): Promise<CreateResult> {
  const spec = containerSpec(imageRef, image, command, flags);
  resolveSharedModes(engine, spec.hostConfig, spec.config);
  spec.mounts.push(...volumesFrom(engine, spec.hostConfig.VolumesFrom ?? [], spec.mounts));
  // Checked (and the default network made, on first need) before anything of the container exists.
  const { networks, warnings } = networksAtCreate(engine, spec.hostConfig, flags);
  const id = newId();
  // Its directory first, locked until the record is written: a name whose owner is still being
  // created is never mistaken for one a crashed create left (store.ts reserveName).
  engine.containers.createDir(id);
  const unlockNew = engine.containers.lock(id)!;
  let name: string;
  try {
    if (flags.name !== undefined) {
      name = validateName(flags.name);
      engine.containers.reserveName(name, id);
      crashPoint('create:name-reserved');
    } else {
      for (let i = 0; ; i++) {
        name = generatedName();
        try {
          engine.containers.reserveName(name, id);
          break;
        } catch (e) {
          if (!(e instanceof ConflictError) || i > 20) throw e;
        }
      }
    }
  } catch (e) {
    unlockNew();
    rmSync(engine.containers.path(id), { recursive: true, force: true });
    throw e;
  }
  try {
    const rec: ContainerRecord = {
      version: 1,
      Id: id,
      Name: name,
      Created: new Date().toISOString(),
      Image: imageRef,
      ImageId: image.id,
      Path: '',
      Args: [],
      Config: spec.config,
      HostConfig: spec.hostConfig,
      Mounts: [],
      State: initialState(),
      RestartCount: 0,
      Networks: networks,
      AnonymousVolumes: [],
    };
    const args = processArgs(rec);
    rec.Path = args[0] ?? '';
    rec.Args = args.slice(1);
    if (!rec.Config.Hostname) rec.Config.Hostname = rec.HostConfig.NetworkMode === 'host' || rec.HostConfig.UTSMode === 'host' ? hostHostnameText() : shortId(id);
    // Written first: from here on, `rm -f <id>` finds and removes whatever follows.
    engine.containers.write(rec);
    crashPoint('create:record-written');
    rec.Mounts = spec.mounts.map((m) => resolveVolume(engine, rec, m));
    await containerLower(engine, image); // unpacks what the store lacks, makes the init layer
    createRootfsDirs(rootfsDirs(engine.containers.path(id)));
    crashPoint('create:rootfs-made');
    mkdirSync(join(engine.containers.path(id), 'bundle'), { mode: 0o700 });
    engine.containers.write(rec);
    emitContainer(engine, 'create', rec);
    return { record: rec, warnings };
  } catch (e) {
    // Nothing of a half-made container is kept: it was never visible to anyone but us.
    try {
      removeContainerFiles(engine, id, name, true, undefined);
    } catch {
      /* the error that brought us here is the one to report */
    }
    throw e;
  } finally {
    unlockNew();
  }
}

/**
 * --volumes-from: the other containers' binds and volumes at the same paths (the volumes
 * themselves, not copies), read-write as they were unless :ro/:rw says otherwise; a path the
 * new container mounts itself (-v, --mount) keeps its own.
 */
function volumesFrom(engine: Engine, specs: string[], own: MountPoint[]): MountPoint[] {
  const taken = new Set(own.map((m) => m.Destination));
  const out: MountPoint[] = [];
  for (const spec of specs) {
    const [ref = '', mode] = spec.split(':');
    const from = engine.containers.read(engine.containers.resolve(ref));
    for (const m of from.Mounts) {
      if ((m.Type !== 'bind' && m.Type !== 'volume') || taken.has(m.Destination)) continue;
      taken.add(m.Destination);
      const rw = mode === 'ro' ? false : mode === 'rw' ? true : m.RW;
      const modes = m.Mode.split(',').filter((x) => x && x !== 'ro' && x !== 'rw' && x !== 'nocopy');
      out.push({ ...m, RW: rw, Mode: [...modes, ...(rw ? [] : ['ro'])].join(','), CopyUp: false });
    }
  }
  return out;
}

function resolveVolume(engine: Engine, rec: ContainerRecord, m: MountPoint): MountPoint {
  if (m.Type !== 'volume') return m;
  const { volume } = engine.volumes.ensure(m.Name ?? '');
  if (!m.Name) rec.AnonymousVolumes.push(volume.Name);
  engine.containers.write(rec);
  // (--volumes-from shares a volume that is already someone's: nothing to copy up.)
  return { ...m, Name: volume.Name, Source: volume.Mountpoint, CopyUp: m.CopyUp !== false && !m.Mode.split(',').includes('nocopy') };
}

/**
 * docker's copy-up: a volume that is still empty when its container first starts gets what the
 * image has at its path (a VOLUME of an image keeps its files). The image's directory is
 * resolved inside the rootfs (never through a symlink out of it) and copied with cp -a, which
 * copies symlinks as symlinks.
 */
function copyUpVolumes(engine: Engine, rec: ContainerRecord, merged: string): void {
  let changed = false;
  for (const m of rec.Mounts) {
    if (!m.CopyUp) continue;
    m.CopyUp = false;
    changed = true;
    if (readdirSync(m.Source).length) continue;
    const root = openRoot(merged);
    try {
      const fd = resolveInRoot(root, m.Destination);
      if (fd === null) continue;
      try {
        if (!statSync(`/proc/self/fd/${fd}`).isDirectory()) continue;
        const r = spawnSync('cp', ['-a', '--', `/proc/${process.pid}/fd/${fd}/.`, m.Source], { encoding: 'utf8' });
        if (r.status !== 0) throw new MydockerError(`volume ${m.Name}: copy the image's ${m.Destination} into it: ${r.stderr.trim() || r.error?.message}`);
      } finally {
        closeSync(fd);
      }
    } finally {
      closeSync(root);
    }
  }
  if (changed) engine.containers.write(rec);
}

export interface StartOptions {
  /** Connect to the output (and stdin) before the process starts (foreground run, start -a). */
  beforeStart?: (monitor: Monitor) => void;
  /** The terminal's size at start (-t in the foreground); later changes go through conmon. */
  consoleSize?: { height: number; width: number };
}

/** Options of a start made by the restart policy rather than by the user. */
interface StartKind {
  /** True: keep the restart count, back-off and manual-stop flag (a user's start resets them). */
  byPolicy?: boolean;
}

export interface Started {
  monitor: Monitor;
  pid: number;
}

/** `start`: mount, generate the bundle, start the monitor (which creates), then start. */
export async function startContainer(engine: Engine, id: string, opts: StartOptions = {}): Promise<Started> {
  const unlock = engine.containers.lock(id);
  if (!unlock) throw new MydockerError(`No such container: ${id}`);
  try {
    return await startLocked(engine, engine.containers.read(id), opts);
  } finally {
    unlock();
  }
}

/** startContainer's work, under the container's lock (the restart waiter checks and starts in one hold). */
async function startLocked(engine: Engine, rec: ContainerRecord, opts: StartOptions & StartKind): Promise<Started> {
  const id = rec.Id;
  const live = liveState(engine, rec);
  if (live.Running) throw new ConflictError(`container ${rec.Name} is already running`);
  if (live.Status === 'removing') throw new ConflictError(`container ${rec.Name} is being removed`);
  // A start by the user drops any pending restart and starts the policy's count over (docker's
  // ResetRestartManager). One by the policy keeps its PendingRestart until the process runs,
  // so `ps` says Restarting, not Created, while the next run is being set up.
  if (!opts.byPolicy) resetForManualStart(rec);
  // What a previous run left (a crash between exit and cleanup): the runtime's state, mounts —
  // and a monitor still holding a container that never started (mydocker killed between
  // create and start): it goes first, or its exit file and cleanup would land on this run.
  if (live.Status === 'created' && engine.runtime.status(id) !== null) stopMonitor(engine, id);
  finishPreviousRun(engine, rec);
  const cdir = engine.containers.path(id);
  const image = engine.findImage(rec.ImageId);
  if (!image) throw new MydockerError(`container ${rec.Name}: its image ${rec.ImageId} is gone`);
  const dirs = rootfsDirs(cdir);
  mountRootfs(dirs, await containerLower(engine, image));
  trace('mydocker: rootfs mounted');
  crashPoint('start:mounted');

  // Another container's namespaces (--network/--pid container:X): it must be running.
  let shared: Joined;
  try {
    shared = joinedNamespaces(engine, rec.HostConfig);
  } catch (e) {
    unmountRootfs(cdir);
    throw e;
  }
  const files = shared.files ?? {
    hosts: join(cdir, 'hosts'),
    hostname: join(cdir, 'hostname'),
    resolvConf: join(cdir, 'resolv.conf'),
  };
  const hostNet = rec.HostConfig.NetworkMode === 'host';
  // Its addresses and host ports, before it exists: /etc/hosts can name them.
  const net = prepareStart(engine, rec);
  trace('mydocker: network prepared');
  crashPoint('start:network-allocated');
  try {
    const hc = rec.HostConfig;
    // (The target's files, when its network is joined, are its own to write.)
    if (!shared.files) writeContainerFiles(files, rec, hostNet, net?.hosts);

    // Volumes with driver options are mounts, made with their first user (volumes/driver.ts).
    for (const v of optionVolumes(engine, rec)) acquireVolume(v, id);
    copyUpVolumes(engine, rec, dirs.merged);
    const user = resolveUser(dirs.merged, rec.Config.User || '');
    const extraGids = resolveGroupAdd(dirs.merged, hc.GroupAdd ?? []);
    user.additionalGids = [...new Set([...user.additionalGids, ...extraGids])].filter((g) => g !== user.gid);
    if (rec.Config.WorkingDir) ensureWorkdir(dirs.merged, rec.Config.WorkingDir, user.uid, user.gid);
    const mounts: ResolvedMount[] = rec.Mounts.map((m) => {
      if (m.Type === 'bind') ensureBindSource(m, hc.Mounts?.some((x) => x.Type === 'bind' && x.Target === m.Destination) ?? false);
      return { source: m.Source, destination: m.Destination, rw: m.RW, propagation: m.Propagation };
    });
    const devices = rec.HostConfig.Devices.map((d) => ({ device: statDevice(d.PathOnHost), containerPath: d.PathInContainer, permissions: d.CgroupPermissions }));
    if (hc.Init && !existsSync(INIT_BINARY)) throw new MydockerError(`--init: ${INIT_BINARY} is missing (install Debian's tini package)`);
    const spec = buildSpec(rec, {
      rootfs: dirs.merged, user, hostname: rec.Config.Hostname, files, mounts, devices, hooks: net?.hooks, annotations: net?.annotations,
      ...(hc.Init ? { initPath: INIT_BINARY } : {}),
      ...(shared.netnsPath ? { netnsPath: shared.netnsPath } : {}),
      ...(shared.pidnsPath ? { pidnsPath: shared.pidnsPath } : {}),
    });
    if (rec.Config.Tty && opts.consoleSize) spec.process!.consoleSize = opts.consoleSize;
    writeFileSync(join(cdir, 'bundle', 'config.json'), JSON.stringify(spec));
    // The record before the previous run's exit status goes: if it cannot be written (a full
    // disk), that status is still there to report.
    rec.State = { ...rec.State, Status: 'running', StartedAt: new Date().toISOString(), Monitored: true, Error: '', Pid: 0, ExitCode: 0, OOMKilled: false };
    engine.containers.write(rec);
  } catch (e) {
    if (net) {
      closeAll(net.portFds);
      releaseNetworks(engine, id, rec);
    }
    // Not started: nothing of this run stays mounted (the record still says what it was).
    try {
      unmountRootfs(cdir);
      releaseVolumes(engine, rec);
    } catch {
      /* the next start or rm retries */
    }
    throw e;
  }

  // Made at each start: it is in the run tree, which a reboot empties.
  mkdirSync(exitDir(engine, id), { recursive: true, mode: 0o700 });
  rmSync(join(exitDir(engine, id), id), { force: true });
  rmSync(join(exitDir(engine, id), CLEANED), { force: true });
  rmSync(join(cdir, 'oom'), { force: true });

  trace('mydocker: bundle written');
  mkdirSync(engine.paths.monitors, { recursive: true, mode: 0o700 });
  let monitor: Monitor;
  try {
    monitor = await startMonitor({
      id,
      shortId: shortId(id),
      name: rec.Name,
      bundle: join(cdir, 'bundle'),
      pidFile: join(cdir, 'bundle', 'pidfile'),
      conmonPidFile: join(cdir, 'conmon.pid'),
      exitDir: exitDir(engine, id),
      socketDir: engine.paths.monitors,
      logPath: join(cdir, 'ctr.log'),
      noLog: rec.HostConfig.LogConfig?.Type === 'none',
      ...(rec.HostConfig.LogConfig?.Config['max-size'] ? { logSizeMax: bytesFlag('--log-opt max-size', rec.HostConfig.LogConfig.Config['max-size']) } : {}),
      runtimePath: engine.runtimeForMonitor(),
      runtimeArgs: ['--root', engine.paths.runtime],
      tty: rec.Config.Tty,
      stdin: rec.Config.OpenStdin,
      // docker closes the container's stdin when the client's ends only with StdinOnce and no
      // terminal (`echo x | run -i … cat`); a terminal's EOF is a byte, and a detach keeps it.
      leaveStdinOpen: !rec.Config.StdinOnce || rec.Config.Tty,
      exitCommand: exitCommand(engine, id),
      env: engine.monitorEnv(),
      cwd: cdir,
      extraFds: net?.portFds,
    });
  } catch (e) {
    failStart(engine, rec, (e as Error).message);
    throw commandError(e as Error);
  } finally {
    // conmon holds the published ports now (or nobody does: the start failed).
    if (net) closeAll(net.portFds);
  }
  try {
    trace('mydocker: monitor reports the container created');
    crashPoint('start:monitor-created');
    opts.beforeStart?.(monitor);
    engine.runtime.start(id);
    if (net) joined(engine, rec);
    crashPoint('start:started');
    trace('mydocker: started');
  } catch (e) {
    monitor.release();
    const msg = (e as Error).message;
    failStart(engine, rec, msg);
    throw commandError(e as Error);
  }
  rec = engine.containers.read(id);
  rec.State.Pid = monitor.pid;
  delete rec.PendingRestart;
  engine.containers.write(rec);
  emitContainer(engine, 'start', rec);
  startHealthChecker(engine, rec); // its healthcheck's checker, with the run (health.ts)
  crashPoint('start:health-started');
  return { monitor, pid: monitor.pid };
}

/** docker's codes for a container that could not start: 127 not found, 126 not runnable. */
function commandError(e: Error): Error {
  const msg = runtimeMessage(e.message);
  const code = execFailureCode(msg);
  return code ? new CommandError(msg, code) : new MydockerError(msg);
}

/** A start that failed: back to "created" with the error, nothing left running or mounted. */
function failStart(engine: Engine, rec: ContainerRecord, message: string): void {
  try {
    engine.runtime.delete(rec.Id, true);
  } catch {
    /* nothing was created */
  }
  try {
    releaseContainerNetworks(engine, rec.Id, rec);
  } catch {
    /* rm retries */
  }
  try {
    unmountRootfs(engine.containers.path(rec.Id));
    releaseVolumes(engine, rec);
  } catch {
    /* reported by rm */
  }
  const code = commandError(new Error(message));
  delete rec.PendingRestart; // a restart that could not start is over: the container is not restarting
  rec.State = { ...rec.State, Status: 'created', Error: runtimeMessage(message), ExitCode: code instanceof CommandError ? code.exitCode : 125, Monitored: false, Pid: 0 };
  engine.containers.write(rec);
}

/** The container's /etc/hostname, /etc/hosts and /etc/resolv.conf (bind-mounted, written in place). */
function writeContainerFiles(files: { hosts: string; hostname: string; resolvConf: string }, rec: ContainerRecord, hostNet: boolean, networkHosts: string | undefined): void {
  const hc = rec.HostConfig;
  writeInPlace(files.hostname, `${rec.Config.Hostname}\n`);
  // With the host's network, --add-host lines follow the host's own file; on networks,
  // hostsFor placed them (host-gateway is the network's gateway); without, only them.
  const hostsFile = hostNet
    ? `${readHost('/etc/hosts').replace(/\n*$/, '\n')}${hostsLines(extraHostEntries(hc.ExtraHosts, '127.0.0.1'))}`
    : (networkHosts ?? hostsText([], extraHostEntries(hc.ExtraHosts, undefined)));
  writeInPlace(files.hosts, hostsFile);
  writeInPlace(files.resolvConf, resolvConfText(hostNet, undefined, { servers: hc.Dns, search: hc.DnsSearch, options: hc.DnsOptions }));
}

/** docker makes a missing working directory (owned by the container's user), inside the rootfs. */
function ensureWorkdir(rootfs: string, dir: string, uid: number, gid: number): void {
  const root = openRoot(rootfs);
  try {
    const existing = resolveInRoot(root, dir);
    if (existing !== null) {
      closeSync(existing);
      return;
    }
    const fd = ensureInRoot(root, dir, false, `--workdir ${dir}`);
    try {
      chownSync(`/proc/self/fd/${fd}`, uid, gid);
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(root);
  }
}

function ensureBindSource(m: MountPoint, fromMountFlag: boolean): void {
  // docker -v creates a missing host directory; --mount refuses it. Neither replaces anything.
  try {
    lstatSync(m.Source);
  } catch {
    if (fromMountFlag) throw new InputError(`--mount target=${m.Destination}: bind source path does not exist: ${m.Source}`);
    mkdirSync(m.Source, { recursive: true, mode: 0o755 });
  }
}

function statDevice(path: string): HostDevice {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(`--device ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such device' : (e as Error).message}`);
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : null;
  if (!type) throw new InputError(`--device ${path}: not a device node`);
  const rdev = st.rdev;
  return {
    path,
    type,
    major: Number((BigInt(rdev) >> 8n) & 0xfffn),
    minor: Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & 0xfff00n)),
    fileMode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
  };
}

/** Whatever a previous run left behind, released (runtime state, mounts). Under the lock. */
function finishPreviousRun(engine: Engine, rec: ContainerRecord): void {
  try {
    if (engine.runtime.status(rec.Id) !== null) engine.runtime.delete(rec.Id, true);
  } catch (e) {
    throw new MydockerError(`container ${rec.Name}: release its previous run: ${(e as Error).message}`);
  }
  releaseContainerNetworks(engine, rec.Id, rec);
  unmountRootfs(engine.containers.path(rec.Id));
  releaseVolumes(engine, rec);
}

/** The volumes of a container that have driver options (mounted while used). */
function optionVolumes(engine: Engine, rec: ContainerRecord): Volume[] {
  const out: Volume[] = [];
  for (const m of rec.Mounts) {
    if (m.Type !== 'volume' || !m.Name) continue;
    try {
      const v = engine.volumes.get(m.Name);
      if (v.Options && Object.keys(v.Options).length) out.push(v);
    } catch {
      /* removed meanwhile */
    }
  }
  return out;
}

/** This container no longer uses its option volumes: the last user's release unmounts. */
function releaseVolumes(engine: Engine, rec: ContainerRecord): void {
  for (const v of optionVolumes(engine, rec)) releaseVolume(v, rec.Id, (id) => id !== rec.Id && engine.containers.exists(id));
}

/**
 * What networking a container still holds once its runtime state is deleted (the poststop DEL
 * normally leaves nothing): see network/container.ts releaseNetworks. A container that never
 * joined a network (none, host, an old record) costs nothing here.
 */
function releaseContainerNetworks(engine: Engine, id: string, rec: ContainerRecord | null | undefined): void {
  if (rec === undefined || (rec && !Object.keys(rec.Networks ?? {}).length)) return;
  releaseNetworks(engine, id, rec);
}

const ATTACH_LOCK = 'attach.lock';
/** Written by cleanupContainer when a run is fully cleaned up; removed at each start. */
const CLEANED = 'cleaned';

/**
 * conmon's exit command. A small shell step first: it waits for a foreground client to finish
 * (the attach lock), and when that client already recorded the exit and cleaned up (or removed
 * the container), no Node process is started at all — a foreground `run` pays for one cleanup,
 * not two. Otherwise (a detached container, a client that died) mydocker's cleanup runs.
 */
function exitCommand(engine: Engine, id: string): string[] {
  const dir = engine.containers.path(id);
  const script = [
    'flock "$1/' + ATTACH_LOCK + '" true 2>/dev/null',
    '[ -e "$1/container.json" ] || exit 0',
    '[ -e "$2/' + CLEANED + '" ] && exit 0',
    'shift 2; exec "$@"',
  ].join('; ');
  return ['/bin/sh', '-c', script, 'mydocker-cleanup', dir, exitDir(engine, id), process.execPath, engine.mydockerCli, ...engine.globalArgs(), 'container', 'cleanup', id];
}

/**
 * A foreground client (`run` without -d, `start -a`) holds this shared lock on its container
 * until it has read the exit status and done its own cleanup (or --rm removal). conmon's
 * cleanup command waits for it, so it can never remove a --rm container under a client that
 * still has to report its exit code; a client that dies releases it with its fds.
 */
export function holdAttachLock(engine: Engine, id: string): Release {
  return lockSync(join(engine.containers.path(id), ATTACH_LOCK), 'shared');
}

function waitForClients(engine: Engine, id: string): void {
  const path = join(engine.containers.path(id), ATTACH_LOCK);
  if (!existsSync(path)) return; // never attached
  try {
    lockSync(path, 'exclusive')();
  } catch {
    /* the container went meanwhile */
  }
}

/**
 * After the container's process exited (conmon's exit command, a foreground run, stop, rm):
 * record the exit, release the runtime's state and cgroup and the mounts; with --rm, remove
 * the container. Idempotent, and a no-op while the container still runs.
 *
 * Whoever records the exit also applies the restart policy (restart.ts decideRestart), once
 * per run. A restart that is due leaves no CLEANED marker, so conmon's exit command still runs
 * `container cleanup` even after a foreground client cleaned up: that command is the one
 * that waits and restarts (restartWhenDue), after the client has reported the exit code.
 */
export function cleanupContainer(engine: Engine, id: string, opts: { waitForClients?: boolean } = {}): void {
  // The monitor's command: let a foreground client finish first (it reports the exit code).
  if (opts.waitForClients) waitForClients(engine, id);
  const unlock = engine.containers.lock(id);
  if (!unlock) return;
  try {
    let rec: ContainerRecord;
    try {
      rec = engine.containers.read(id);
    } catch {
      return;
    }
    const live = liveState(engine, rec);
    if (live.Running) return;
    if (live.Status === 'created' && engine.runtime.status(id) === 'created') return; // created, waiting for start
    stopHealthChecker(engine, id); // no check outlives the run
    if (rec.State.Status === 'running') {
      rec.State = { ...rec.State, Status: 'exited', ExitCode: live.ExitCode, FinishedAt: live.FinishedAt, Pid: 0, OOMKilled: wasOomKilled(engine, id) };
      decideRestart(rec, live.ExitCode, rec.State.StartedAt, live.FinishedAt);
      engine.containers.write(rec);
      emitExit(engine, rec, live.ExitCode);
    }
    finishPreviousRun(engine, rec);
    if (rec.HostConfig.AutoRemove) removeLocked(engine, rec, true);
    else if (!rec.PendingRestart) writeFileSync(join(exitDir(engine, id), CLEANED), '');
    trace('mydocker: cleaned up');
  } finally {
    unlock();
  }
}

/**
 * A foreground client's end (`run`, `start -a`, after the output is drained): the container's
 * exit code, then --rm's removal or the cleanup. The code stays the answer when that fails (a
 * full disk refuses the record): the container did run and exit. The failure is reported with
 * `warn`, and the next command on the container (`rm -f`, `start`, `ps`) finishes the job.
 */
export async function finishForeground(engine: Engine, id: string, autoRemove: boolean, warn: (message: string) => void): Promise<number> {
  const code = liveState(engine, engine.containers.read(id)).ExitCode;
  try {
    if (autoRemove) await removeContainer(engine, id, { force: true, volumes: true });
    else cleanupContainer(engine, id);
  } catch (e) {
    warn(`container ${shortId(id)} exited with ${code}, but its ${autoRemove ? 'removal' : 'cleanup'} failed: ${(e as Error).message}`);
  }
  return code;
}

/**
 * The restart policy's waiter (conmon's exit command, after cleanupContainer): claim the
 * pending restart by writing our pid into it (that is what makes `ps` say Restarting), sleep
 * its back-off WITHOUT the container's lock (stop, kill, rm and start must not wait a minute
 * behind us; they cancel it instead), then, under the lock, start the container with a new
 * monitor if the restart is still ours: not cancelled, not removed, not running.
 */
export async function restartWhenDue(engine: Engine, id: string): Promise<void> {
  let delay: number;
  {
    const unlock = engine.containers.lock(id);
    if (!unlock) return;
    try {
      const rec = engine.containers.read(id);
      const p = rec.PendingRestart;
      if (!p || (p.Waiter !== process.pid && isWaiter(p.Waiter, id))) return; // nothing due, or someone waits already
      p.Waiter = process.pid;
      engine.containers.write(rec);
      delay = p.Delay;
    } catch {
      return; // removed meanwhile
    } finally {
      unlock();
    }
  }
  trace(`mydocker: restart in ${delay} ms`);
  await sleep(delay);
  const unlock = engine.containers.lock(id);
  if (!unlock) return;
  try {
    let rec: ContainerRecord;
    try {
      rec = engine.containers.read(id);
    } catch {
      return;
    }
    if (rec.PendingRestart?.Waiter !== process.pid || rec.ManuallyStopped) return; // cancelled meanwhile
    const live = liveState(engine, rec);
    if (live.Running || live.Status === 'removing') {
      delete rec.PendingRestart;
      engine.containers.write(rec);
      return;
    }
    (await startLocked(engine, rec, { byPolicy: true })).monitor.release();
    trace('mydocker: restarted by its policy');
  } finally {
    unlock();
  }
}

function wasOomKilled(engine: Engine, id: string): boolean {
  // conmon drops an "oom" file in its working directory (the container's) on an OOM kill.
  try {
    lstatSync(join(engine.containers.path(id), 'oom'));
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until the runtime no longer runs the container (and conmon wrote its exit file). */
async function waitStopped(engine: Engine, id: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    const st = engine.runtime.status(id);
    if (st === null || st === 'stopped') return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
  }
}

async function waitExitFile(engine: Engine, rec: ContainerRecord, timeoutMs: number): Promise<void> {
  if (!rec.State.Monitored) return;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; Date.now() < deadline; delay = Math.min(delay * 2, 50)) {
    if (readExitFile(exitDir(engine, rec.Id), rec.Id)) return;
    if (!monitorAlive(engine, rec.Id)) return;
    await sleep(delay);
  }
}

/** SIGKILL the container's conmon (if it is alive and ours) and wait for it to go. */
function stopMonitor(engine: Engine, id: string): void {
  if (!monitorAlive(engine, id)) return;
  const pid = monitorPid(join(engine.containers.path(id), 'conmon.pid'));
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 200 && monitorAlive(engine, id); i++) Atomics.wait(sab, 0, 0, 5);
}

function monitorAlive(engine: Engine, id: string): boolean {
  return isMonitor(monitorPid(join(engine.containers.path(id), 'conmon.pid')), id);
}

/**
 * docker's HasBeenManuallyStopped, set under the lock before any signal is sent, so that the
 * run's exit is never taken for one the policy restarts; a restart already waiting is
 * cancelled (its waiter killed), so the container stays Exited.
 */
function markManuallyStopped(engine: Engine, id: string): void {
  const unlock = engine.containers.lock(id);
  if (!unlock) return;
  try {
    const rec = engine.containers.read(id);
    if (rec.ManuallyStopped && !rec.PendingRestart) return;
    rec.ManuallyStopped = true;
    cancelPendingRestart(rec);
    engine.containers.write(rec);
  } catch {
    /* removed meanwhile: nothing to restart */
  } finally {
    unlock();
  }
}

/** `stop`: the stop signal, `timeout` seconds, then SIGKILL. A stopped container is no error. */
/**
 * `stop`. With `warn`, a cleanup that fails once the container has stopped (a full disk
 * refuses the record) is reported there instead of failing the stop: the container is
 * stopped, which is what was asked, and the next command on it finishes the cleanup.
 */
export async function stopContainer(engine: Engine, id: string, timeoutSec?: number, signal?: string, warn?: (message: string) => void): Promise<void> {
  markManuallyStopped(engine, id);
  const rec = engine.containers.read(id);
  const live = liveState(engine, rec);
  if (live.Running) {
    const timeout = timeoutSec ?? rec.Config.StopTimeout ?? 10;
    if (live.Paused) engine.runtime.resume(id);
    const sig = signal ?? (rec.Config.StopSignal || 'SIGTERM');
    try {
      engine.runtime.kill(id, sig);
    } catch {
      /* exited meanwhile */
    }
    emitKill(engine, rec, sig);
    const stopped = timeout >= 0 ? await waitStopped(engine, id, timeout * 1000) : await waitStopped(engine, id, 365 * 86400_000);
    if (!stopped) {
      try {
        engine.runtime.kill(id, 'KILL', true);
      } catch {
        /* exited meanwhile */
      }
      emitKill(engine, rec, 'KILL');
      if (!(await waitStopped(engine, id, 10_000))) throw new MydockerError(`container ${rec.Name} did not stop after SIGKILL`);
    }
    await waitExitFile(engine, rec, 5000);
  }
  try {
    cleanupContainer(engine, id);
  } catch (e) {
    if (!warn) throw e;
    warn(`container ${rec.Name} stopped, but its cleanup failed: ${(e as Error).message}`);
  }
  if (live.Running) emitContainer(engine, 'stop', rec);
}

/** `kill`: a signal to the container's process; refused when it does not run (docker). */
export function killContainer(engine: Engine, id: string, signal = 'KILL'): void {
  const rec = engine.containers.read(id);
  const live = liveState(engine, rec);
  if (!live.Running && live.Status !== 'restarting') throw new ConflictError(`Cannot kill container: ${id}: Container ${rec.Id} is not running`);
  let sig: number;
  try {
    sig = /^\d+$/.test(signal) ? Number(signal) : parseSignal(signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`);
  } catch {
    throw new InputError(`--signal ${signal}: invalid signal`);
  }
  // docker: the stop signal or SIGKILL is a manual stop (no restart, whatever the policy);
  // another signal is just delivered, and the policy applies if the process exits of it.
  let stopSig = 15;
  try {
    stopSig = parseSignal(rec.Config.StopSignal || 'SIGTERM');
  } catch {
    /* an old record's odd value: SIGTERM */
  }
  if (sig === 9 || sig === stopSig) markManuallyStopped(engine, id);
  // Restarting: no process to signal (docker returns at once; the mark above cancelled the wait).
  if (!live.Running) return;
  if (live.Paused && (sig === 9 || sig === 15)) engine.runtime.resume(id);
  engine.runtime.kill(id, sig);
  emitKill(engine, rec, sig);
}

export interface RemoveOptions {
  force?: boolean;
  volumes?: boolean;
}

/**
 * Directories of removals that were killed half way (renamed out of the tree, not yet deleted):
 * finish them. Only those whose remover is dead: a live one is still working.
 */
export function sweepRemovals(engine: Engine): void {
  let names: string[];
  try {
    names = readdirSync(engine.paths.tmp);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^removing-(?:volume-)?.+-(\d+)$/.exec(n);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // its remover lives
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    const dir = join(engine.paths.tmp, n);
    try {
      unmountRootfs(dir);
      removeTree(dir);
    } catch {
      /* the next sweep tries again */
    }
  }
}

/** `rm`: refuses a running container without force; never deletes through a mount. */
export async function removeContainer(engine: Engine, id: string, opts: RemoveOptions = {}): Promise<void> {
  sweepRemovals(engine);
  let rec: ContainerRecord | null = null;
  try {
    rec = engine.containers.read(id);
  } catch (e) {
    if (!opts.force) throw e;
  }
  if (rec) {
    const live = liveState(engine, rec);
    if (live.Status === 'restarting' && !opts.force) {
      throw new ConflictError(`You cannot remove a restarting container ${rec.Id}. Stop the container before attempting removal or force remove`);
    }
    // No restart of what is being removed, even if its exit is recorded before we get the lock.
    if (opts.force && (live.Running || live.Status === 'restarting')) markManuallyStopped(engine, id);
    if (live.Running) {
      if (!opts.force) {
        throw new ConflictError(`You cannot remove a running container ${rec.Id}. Stop the container before attempting removal or force remove`);
      }
      if (live.Paused) {
        try {
          engine.runtime.resume(id);
        } catch {
          /* delete --force thaws too */
        }
      }
      try {
        engine.runtime.kill(id, 'KILL', true);
      } catch {
        /* exited meanwhile */
      }
      emitKill(engine, rec, 'KILL');
      await waitStopped(engine, id, 10_000);
      await waitExitFile(engine, rec, 2000);
    }
  }
  const unlock = engine.containers.lock(id);
  if (!unlock) return;
  try {
    if (!rec) {
      // A record that cannot be read (corrupt, or a create killed before writing it): remove
      // what can be found by id.
      removeContainerFiles(engine, id, null, true, null);
      return;
    }
    removeLocked(engine, rec, opts.volumes ?? false);
  } finally {
    unlock();
  }
}

function removeLocked(engine: Engine, rec: ContainerRecord, volumes: boolean): void {
  emitUnrecordedExit(engine, rec, () => liveState(engine, rec).ExitCode); // a run whose exit nobody recorded (run --rm, rm -f)
  cancelPendingRestart(rec);
  rec.State.Status = 'removing';
  try {
    engine.containers.write(rec);
  } catch {
    /* the directory may be half gone already */
  }
  removeContainerFiles(engine, rec.Id, rec.Name, false, rec);
  emitContainer(engine, 'destroy', rec);
  if (volumes) {
    for (const v of rec.AnonymousVolumes) {
      try {
        engine.volumes.remove(v, volumeUsers(engine, v, rec.Id), true);
      } catch {
        /* in use by another container: kept */
      }
    }
  }
}

/** Containers (other than `except`) that use a volume. */
export function volumeUsers(engine: Engine, name: string, except = ''): string[] {
  return engine.containers
    .list()
    .filter((c) => c.Id !== except && c.Mounts.some((m) => m.Type === 'volume' && m.Name === name))
    .map((c) => c.Id);
}

/**
 * Runtime state, monitor, networks, mounts, directory and name of a container; whatever exists.
 * `rec`: null when it cannot be read (every network is searched), undefined when it never started.
 */
function removeContainerFiles(engine: Engine, id: string, name: string | null, killMonitor: boolean, rec: ContainerRecord | null | undefined): void {
  try {
    if (engine.runtime.status(id) !== null) engine.runtime.delete(id, true);
  } catch (e) {
    throw new MydockerError(`remove ${id}: the runtime could not delete it: ${(e as Error).message}`);
  }
  releaseContainerNetworks(engine, id, rec);
  if (killMonitor) stopMonitor(engine, id);
  stopHealthChecker(engine, id);
  const dir = engine.containers.path(id);
  unmountRootfs(dir);
  if (rec) releaseVolumes(engine, rec);
  // Run-tree files, before the directory leaves the tree (after it, a crashed rm is finished
  // by removing the trash alone).
  rmSync(exitDir(engine, id), { recursive: true, force: true });
  unlinkMonitorLink(engine, id, dir);
  let trash: string | null = null;
  try {
    trash = engine.containers.detach(id);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  crashPoint('rm:detached');
  if (name) engine.containers.releaseName(name, id);
  else for (const n of namesOf(engine, id)) engine.containers.unlinkName(n);
  if (trash) removeTree(trash);
}

/**
 * conmon links <socket dir>/<short id> to the bundle (where its attach socket is) and never
 * removes it. Only ours goes: a link that points into this container's directory.
 */
function unlinkMonitorLink(engine: Engine, id: string, dir: string): void {
  const link = join(engine.paths.monitors, shortId(id));
  try {
    if (readlinkSync(link).startsWith(`${dir}/`)) rmSync(link, { force: true });
  } catch {
    /* none: never started, or already gone */
  }
}

function namesOf(engine: Engine, id: string): string[] {
  let names: string[];
  try {
    names = readdirSync(engine.containers.namesDir);
  } catch {
    return [];
  }
  return names.filter((n) => engine.containers.nameOwner(n) === id);
}

/** `wait`: block until the container stops; its exit code. */
export async function waitContainer(engine: Engine, id: string, signal?: AbortSignal): Promise<number> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (signal?.aborted) return -1;
    const rec = engine.containers.read(id);
    const live = liveState(engine, rec);
    if (!live.Running && live.Status !== 'created') return live.ExitCode;
    if (live.Status === 'created' && !rec.State.Monitored) return live.ExitCode;
    await sleep(delay);
  }
}

