// `--network container:X` and `--pid container:X`: another container's namespaces, joined by
// path (/proc/<its pid>/ns/…), as docker does. At create the reference becomes the target's
// full id (a later rename changes nothing); at start the target must be running. With its
// network the container also takes its name and name files (/etc/hosts, /etc/hostname,
// /etc/resolv.conf are the target's, shared as docker shares them).
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { ConflictError, InputError } from '../errors.js';
import type { ContainerConfig, HostConfig } from './record.js';
import { liveState } from './status.js';

const PREFIX = 'container:';

export const sharesNamespaceOf = (mode: string | undefined): string | null => (mode?.startsWith(PREFIX) ? mode.slice(PREFIX.length) : null);

/** At create: `container:REF` → `container:<full id>`; the hostname is the target's. */
export function resolveSharedModes(engine: Engine, hc: HostConfig, config: ContainerConfig): void {
  for (const [key, flag] of [['NetworkMode', '--network'], ['PidMode', '--pid']] as const) {
    const ref = sharesNamespaceOf(hc[key]);
    if (ref === null) continue;
    let id: string;
    try {
      id = engine.containers.resolve(ref);
    } catch {
      throw new InputError(`${flag} ${hc[key]}: No such container: ${ref}`);
    }
    hc[key] = `${PREFIX}${id}`;
    if (key === 'NetworkMode') config.Hostname = engine.containers.read(id).Config.Hostname;
  }
}

export interface Joined {
  netnsPath?: string;
  pidnsPath?: string;
  /** The target's /etc files, when its network is joined. */
  files?: { hosts: string; hostname: string; resolvConf: string };
}

/** At start: the namespaces to join; the target must be running. */
export function joinedNamespaces(engine: Engine, hc: HostConfig): Joined {
  const out: Joined = {};
  for (const [key, what] of [['NetworkMode', 'network'], ['PidMode', 'PID namespace']] as const) {
    const id = sharesNamespaceOf(hc[key]);
    if (id === null) continue;
    let target;
    try {
      target = engine.containers.read(id);
    } catch {
      throw new ConflictError(`cannot join the ${what} of container ${id.slice(0, 12)}: it no longer exists`);
    }
    const live = liveState(engine, target);
    if (!live.Running || !live.Pid) throw new ConflictError(`cannot join the ${what} of a non running container: ${target.Name}`);
    if (key === 'NetworkMode') {
      out.netnsPath = `/proc/${live.Pid}/ns/net`;
      const dir = engine.containers.path(id);
      out.files = { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') };
    } else out.pidnsPath = `/proc/${live.Pid}/ns/pid`;
  }
  return out;
}
