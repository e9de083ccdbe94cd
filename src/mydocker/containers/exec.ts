// `exec`: a new process in a running container, through the runtime's library. Defaults as
// docker's: the container's environment plus -e, its working directory, its user (or -u,
// resolved in the container's own /etc/passwd, with HOME following the user).
import { closeSync, openSync } from 'node:fs';
import type { ExecStarted } from '../../container/runtime.js';
import type { Engine } from '../engine.js';
import { ConflictError, InputError } from '../errors.js';
import { mergeEnv, parseEnvFlag, readEnvFile } from './options.js';
import { rootfsDirs } from './rootfs.js';
import { liveState } from './status.js';
import { resolveUser } from './users.js';

export interface ExecOptions {
  command: string[];
  env?: string[];
  envFile?: string[];
  user?: string;
  workdir?: string;
  tty?: boolean;
  interactive?: boolean;
  detach?: boolean;
  privileged?: boolean;
  /** The process's stdin, stdout and stderr (default: ours, /dev/null with detach): the healthcheck's capture. */
  stdio?: [number, number, number];
}

export function execInContainer(engine: Engine, id: string, o: ExecOptions): ExecStarted {
  const rec = engine.containers.read(id);
  const live = liveState(engine, rec);
  if (!live.Running) throw new ConflictError(`container ${rec.Id} is not running`);
  if (live.Paused) throw new ConflictError(`container ${rec.Id} is paused, unpause the container before exec`);
  if (!o.command.length) throw new InputError('exec: no command given');
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) throw new InputError(`--workdir ${o.workdir}: must be an absolute path`);
  const env: string[] = [];
  for (const f of o.envFile ?? []) env.push(...readEnvFile(f));
  for (const e of o.env ?? []) {
    const kv = parseEnvFlag(e);
    if (kv) env.push(kv);
  }
  let user: string | undefined;
  let groups: string[] = [];
  if (o.user) {
    const u = resolveUser(rootfsDirs(engine.containers.path(id)).merged, o.user);
    user = `${u.uid}:${u.gid}`;
    groups = u.additionalGids.map(String);
    env.unshift(`HOME=${u.home}`);
  }
  const caps = o.privileged ? undefined : [];
  const devnull = openSync('/dev/null', 'r+');
  try {
    const stdin = o.interactive && !o.detach ? 0 : devnull;
    const out = o.detach ? devnull : 1;
    const err = o.detach ? devnull : 2;
    return engine.runtime.exec({
      id,
      args: o.command,
      flags: {
        env: mergeEnv(env),
        ...(o.workdir ? { cwd: o.workdir } : {}),
        tty: !!o.tty,
        ...(user ? { user } : {}),
        additionalGids: groups,
        ...(caps ? { cap: caps } : {}),
      },
      detach: !!o.detach,
      preserveFds: 0,
      stdio: o.stdio ?? [stdin, out, err],
    });
  } finally {
    closeSync(devnull);
  }
}
