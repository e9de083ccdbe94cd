// The build steps that need a container, done as docker's classic builder does them: through
// mydocker's own container machinery (containers/lifecycle.ts), never a second copy of it.
//
//   RUN      a container of the current image runs the command (its output streamed), then its
//            overlay upper dir is committed as a new layer (containers/snapshot.ts → images/commit.ts).
//   COPY/ADD a container of the current image is created (not started), its rootfs mounted,
//   WORKDIR  files written into it through the layer extractor (images/extract.ts in copy
//            mode: no entry may write through a symlink or outside its directory), and committed.
// A step that changed nothing is a config-only image (docker's empty_layer). Every step
// container is removed when the step ends — succeeded, failed or interrupted (docker's --rm
// and --force-rm), volumes included.
import { chownSync, closeSync, readdirSync, statSync } from 'node:fs';
import { KernelError } from '../../kernel/ffi.js';
import { ensureInRoot, openRoot, resolveInRoot } from '../../rootfs/safe-path.js';
import { RuntimeError } from '../../errors.js';
import { withContainerView } from '../containers/copy.js';
import { createContainer, holdAttachLock, removeContainer, startContainer } from '../containers/lifecycle.js';
import { attach, type Attached } from '../containers/monitor.js';
import type { RunFlags } from '../containers/options.js';
import { rootfsDirs } from '../containers/rootfs.js';
import { commitContainer } from '../containers/snapshot.js';
import { liveState } from '../containers/status.js';
import { shortId } from '../containers/store.js';
import type { Engine } from '../engine.js';
import { CommandError, InputError, MydockerError } from '../errors.js';
import type { Image, ImageRunConfig } from '../images/types.js';

/** A RUN whose command failed: docker's message, and exit status 1 for the build. */
export class RunFailedError extends RuntimeError {
  override exitCode = 1;
  constructor(
    readonly command: string,
    readonly code: number,
  ) {
    super(`The command '${command}' returned a non-zero code: ${code}`);
  }
}

/** The build was interrupted (SIGINT, SIGTERM): what it made is removed, the signal's status. */
export class BuildInterrupted extends RuntimeError {
  constructor(readonly signal: string) {
    super(`build interrupted (${signal})`);
    this.exitCode = signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 129;
  }
}

export interface StepContainer {
  id: string;
  /** The rootfs mounted by withContainerView (for COPY/WORKDIR). */
  merged: string;
}

/**
 * A container of `image` for one step; `fn` runs with it, and it is removed afterwards
 * whatever happened. `volumes`: the image's VOLUMEs are mounted (RUN: docker discards what a
 * RUN writes into one); COPY and WORKDIR write into the layer underneath, so they go without.
 */
export async function withStepContainer<T>(engine: Engine, image: Image, command: string[], flags: RunFlags, volumes: boolean, fn: (id: string) => Promise<T>): Promise<T> {
  const cfg = image.config.config ?? {};
  const img: Image = volumes || !cfg.Volumes ? image : { ...image, config: { ...image.config, config: { ...cfg, Volumes: {} } } };
  const unhold = await engine.images.hold();
  let id: string;
  try {
    ({
      record: { Id: id },
    } = await createContainer(engine, image.id, img, command, { ...flags, rm: false }));
  } finally {
    unhold();
  }
  try {
    return await fn(id);
  } finally {
    await removeContainer(engine, id, { force: true, volumes: true });
  }
}

/**
 * Start a created container, stream its output (stdout and stderr both, as docker's build
 * progress) to `write`, and wait for its exit; its exit status. An abort kills it.
 */
export async function runToExit(engine: Engine, id: string, write: (data: Buffer) => void, signal: AbortSignal): Promise<number> {
  const release = holdAttachLock(engine, id);
  let attached: Attached | undefined;
  let exited: Promise<void> | undefined;
  const kill = () => {
    try {
      engine.runtime.kill(id, 'KILL', true);
    } catch {
      /* not started yet, or gone */
    }
  };
  try {
    if (signal.aborted) throw new BuildInterrupted(String(signal.reason));
    let started;
    try {
      started = await startContainer(engine, id, {
        beforeStart: (m) => {
          attached = attach(engine.paths.monitors, shortId(id), (_stream, data) => write(data));
          exited = m.exited;
        },
      });
    } catch (e) {
      // The command could not be run at all (not found: 127, not executable: 126).
      if (e instanceof CommandError) return e.exitCode;
      throw e;
    }
    signal.addEventListener('abort', kill);
    try {
      if (signal.aborted) kill();
      await Promise.all([attached?.ended, exited]);
    } finally {
      signal.removeEventListener('abort', kill);
      started.monitor.release();
    }
    if (signal.aborted) throw new BuildInterrupted(String(signal.reason));
    return liveState(engine, engine.containers.read(id)).ExitCode;
  } finally {
    attached?.close();
    release();
  }
}

/**
 * The step's image from its container: a new layer when its upper dir has anything, else a
 * config-only image (docker's empty_layer). `config` is the image's run config after the step.
 */
export async function commitStep(engine: Engine, id: string, parent: Image, config: ImageRunConfig, createdBy: string): Promise<string> {
  const upper = rootfsDirs(engine.containers.path(id)).upper;
  if (readdirSync(upper).length === 0) return engine.images.commitConfig({ parent, config, createdBy });
  return commitContainer(engine, id, { config, createdBy, pause: false });
}

/**
 * Work on a step container's mounted rootfs (an open in-root fd of it): COPY/ADD/WORKDIR.
 * Paths are resolved in it as the container would see them: symlinks stay inside the rootfs.
 */
export async function withStepRootfs<T>(engine: Engine, id: string, fn: (rootFd: number, merged: string) => Promise<T>): Promise<T> {
  return withContainerView(engine, id, async () => {
    const merged = rootfsDirs(engine.containers.path(id)).merged;
    const root = openRoot(merged);
    try {
      return await fn(root, merged);
    } finally {
      closeSync(root);
    }
  });
}

/**
 * A directory in the rootfs, created (with its missing parents, owned by `owner`) where
 * missing; an O_PATH fd of it (the caller closes it). A non-directory on the way is an error.
 */
export function ensureDir(rootFd: number, path: string, owner: { uid: number; gid: number } | null, what: string): number {
  const existing = resolveInRoot(rootFd, path);
  if (existing !== null) {
    if (!isDir(existing)) {
      closeSync(existing);
      throw new InputError(`${what}: ${path} exists and is not a directory`);
    }
    return existing;
  }
  // Each missing component is made (0755, root) by ensureInRoot; the new ones then get the owner.
  const parts = path.split('/').filter((c) => c !== '' && c !== '.');
  const created: number[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    const fd = resolveInRoot(rootFd, prefix);
    if (fd !== null) {
      const dir = isDir(fd);
      closeSync(fd);
      if (!dir) throw new InputError(`${what}: ${prefix} is not a directory`);
      continue;
    }
    let made: number;
    try {
      made = ensureInRoot(rootFd, prefix, false, what);
    } catch (e) {
      // ensureInRoot's messages name `what` already (e.g. a dangling symlink it will not create a target for).
      if (e instanceof RuntimeError && !(e instanceof MydockerError)) throw new MydockerError((e as Error).message);
      if (e instanceof KernelError) throw new MydockerError(`${what}: create ${prefix}: ${(e as Error).message}`);
      throw e;
    }
    if (owner) chownSync(`/proc/self/fd/${made}`, owner.uid, owner.gid);
    created.push(made);
  }
  for (const fd of created.slice(0, -1)) closeSync(fd);
  const last = created[created.length - 1];
  if (last !== undefined) return last;
  const again = resolveInRoot(rootFd, path);
  if (again === null) throw new MydockerError(`${what}: ${path} vanished while being created`);
  return again;
}

/** Whether an O_PATH fd is a directory. */
function isDir(fd: number): boolean {
  return statSync(`/proc/self/fd/${fd}`).isDirectory();
}
