// A container's filesystem out of it: `export` (the whole merged tree as a tar) and `commit`
// (its changes — the overlay upper dir — as a new layer on its image).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { crashPoint } from '../crash.js';
import { MydockerError } from '../errors.js';
import { exportTree } from '../images/export.js';
import type { ImageRunConfig, Progress } from '../images/types.js';
import { isMountpoint } from '../fs/mounts.js';
import { processArgs } from './spec.js';
import { containerLower, mountRootfs, rootfsDirs, unmountRootfs } from './rootfs.js';
import { liveState } from './status.js';

/** `export`: the container's filesystem as a tar (to a file, or stdout with '-'). */
export async function exportContainer(engine: Engine, id: string, out: string, progress?: Progress): Promise<void> {
  const rec = engine.containers.read(id);
  const dirs = rootfsDirs(engine.containers.path(id));
  // A stopped container is mounted for the export and unmounted after, under its lock so that
  // a `start` meanwhile waits instead of losing its rootfs.
  const unlock = engine.containers.lock(id);
  if (!unlock) throw new MydockerError(`No such container: ${id}`);
  let mounted = false;
  try {
    if (!isMountpoint(dirs.merged)) {
      const image = engine.findImage(rec.ImageId);
      if (!image) throw new MydockerError(`container ${rec.Name}: its image ${rec.ImageId} is gone`);
      mountRootfs(dirs, await containerLower(engine, image));
      mounted = true;
    }
    await exportTree(dirs.merged, out, progress ? { progress } : {});
  } finally {
    if (mounted && !liveState(engine, engine.containers.read(id)).Running) unmountRootfs(engine.containers.path(id));
    unlock();
  }
}

export interface CommitRequest {
  ref?: string;
  changes?: string[];
  author?: string;
  message?: string;
  /** Pause a running container while its upper dir is read (docker's default: true). */
  pause?: boolean;
  progress?: Progress;
  /**
   * The new image's run config instead of the container's (a build's RUN step: the image keeps
   * the Dockerfile's CMD, not the RUN's command); `changes` do not apply then.
   */
  config?: ImageRunConfig;
  /** The history entry's created_by (default: the container's command). */
  createdBy?: string;
}

/** `commit`: the container's changes as a new image on top of its own; the new image's id. */
export async function commitContainer(engine: Engine, id: string, req: CommitRequest): Promise<string> {
  const rec = engine.containers.read(id);
  const parent = engine.findImage(rec.ImageId);
  if (!parent) throw new MydockerError(`container ${rec.Name}: its image ${rec.ImageId} is gone; nothing to commit on`);
  const live = liveState(engine, rec);
  // A commit killed while it had the container paused leaves this marker: the pause is ours to
  // undo, so the next commit (or unpause) of it ends paused no longer than docker's would.
  const marker = join(engine.containers.path(id), 'commit-paused');
  const ownedPause = live.Paused && existsSync(marker);
  const pausing = live.Running && (!live.Paused || ownedPause) && req.pause !== false;
  const pause = {
    pause: () => {
      writeFileSync(marker, '');
      if (!liveState(engine, engine.containers.read(id)).Paused) engine.runtime.pause(id);
      crashPoint('commit:paused');
    },
    resume: () => {
      engine.runtime.resume(id);
      rmSync(marker, { force: true });
    },
  };
  const c = rec.Config;
  return engine.images.commit({
    upperDir: rootfsDirs(engine.containers.path(id)).upper,
    parent,
    // docker: the image runs as the container did (its command, environment, directory…).
    config: req.config ?? {
      ...(parent.config.config ?? {}),
      ...(c.User ? { User: c.User } : {}),
      Env: c.Env,
      Entrypoint: c.Entrypoint,
      Cmd: c.Cmd,
      ...(c.WorkingDir ? { WorkingDir: c.WorkingDir } : {}),
      Labels: c.Labels,
      ...(c.StopSignal && c.StopSignal !== 'SIGTERM' ? { StopSignal: c.StopSignal } : {}),
      ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
      ...(c.Volumes ? { Volumes: c.Volumes } : {}),
      ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    },
    ...(req.changes ? { changes: req.changes } : {}),
    ...(req.ref ? { ref: req.ref } : {}),
    ...(req.author ? { author: req.author } : {}),
    ...(req.message ? { message: req.message } : {}),
    createdBy: req.createdBy ?? processArgs(rec).join(' '),
    // Volumes and tmpfs hold data that is not the container's filesystem: their mount points stay, their contents do not.
    exclude: [...rec.Mounts.map((m) => m.Destination), ...Object.keys(rec.HostConfig.Tmpfs)],
    ...(pausing ? { pause } : {}),
    ...(req.progress ? { progress: req.progress } : {}),
  });
}
