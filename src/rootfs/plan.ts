// The rootfs plan: config mounts → MountStep (flags resolved, bind sources made absolute),
// the device nodes /dev needs, and the root's propagation. Pure functions; the init executes
// the result (rootfs/apply.ts).
import { isAbsolute, join } from 'node:path';
import { UnsupportedError, UsageError } from '../errors.js';
import { MS_BIND, MS_REC, MS_SLAVE } from '../kernel/constants.js';
import type { DeviceNode, MountStep } from '../process/init-config.js';
import { withMountLabel } from '../security/lsm.js';
import type { LinuxDevice, Mount } from '../spec/generated/types.js';
import { MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME, MOUNT_OPTIONS, PROPAGATION_OPTIONS, RECURSIVE_MOUNT_OPTIONS } from '../spec/tables.js';

type IdMapping = { containerID: number; hostID: number; size: number };
export interface ContainerIdMaps {
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

/**
 * `mountLabel`: linux.mountLabel, the SELinux context of every filesystem we mount (not binds).
 * `containerMaps`: linux.uid/gidMappings, for an `idmap` mount that gives no mappings of its own.
 */
export function planMounts(mounts: Mount[] | undefined, bundle: string, mountLabel?: string, containerMaps: ContainerIdMaps = {}): MountStep[] {
  return (mounts ?? []).map((m, i) => planMount(m, i, bundle, mountLabel, containerMaps));
}

const mapText = (maps: IdMapping[]) => maps.map((x) => `${x.containerID} ${x.hostID} ${x.size}\n`).join('');

function planMount(m: Mount, index: number, bundle: string, mountLabel: string | undefined, containerMaps: ContainerIdMaps): MountStep {
  const field = `config.json: /mounts/${index}`;
  const options = m.options ?? [];
  const bind = m.type === 'bind' || options.includes('bind') || options.includes('rbind');
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  const recursiveAttr = { set: 0, clear: 0 };
  let idmapOption: 'idmap' | 'ridmap' | undefined;
  for (const opt of options) {
    if (opt === 'bind') {
      flags |= MS_BIND;
      continue;
    }
    if (opt === 'rbind') {
      flags |= MS_BIND | MS_REC;
      continue;
    }
    const recursive = RECURSIVE_MOUNT_OPTIONS[opt];
    if (recursive) {
      if (/atime$/.test(opt) && !/diratime$/.test(opt)) {
        // The atime modes are one field of the attributes: the kernel only takes a whole new
        // value (clear the field, set the mode); "clearing" a mode means back to relatime.
        recursiveAttr.clear |= MOUNT_ATTR__ATIME;
        recursiveAttr.set = (recursiveAttr.set & ~MOUNT_ATTR__ATIME) | (recursive.clear ? MOUNT_ATTR_RELATIME : recursive.attr);
      } else if (recursive.clear) {
        recursiveAttr.clear |= recursive.attr;
        recursiveAttr.set &= ~recursive.attr;
      } else {
        recursiveAttr.set |= recursive.attr;
        recursiveAttr.clear &= ~recursive.attr;
      }
      continue;
    }
    const known = MOUNT_OPTIONS[opt];
    if (known) {
      flags = known.clear ? flags & ~known.flag : flags | known.flag;
      continue;
    }
    const prop = PROPAGATION_OPTIONS[opt];
    if (prop !== undefined) {
      propagation.push(prop);
      continue;
    }
    if (opt === 'idmap' || opt === 'ridmap') {
      idmapOption = opt;
      continue;
    }
    data.push(opt);
  }
  if (!m.destination) throw new UsageError(`${field}/destination: is required`);
  const destination = m.destination.startsWith('/') ? m.destination : `/${m.destination}`;
  let source = m.source ?? '';
  // Id-mapped (runtime-spec 1.2): the mount's own mappings, or with "idmap"/"ridmap" alone the
  // container's; "ridmap" maps the submounts of a recursive bind too.
  let idmap: MountStep['idmap'];
  if (m.uidMappings?.length || m.gidMappings?.length || idmapOption) {
    const uids = m.uidMappings?.length ? m.uidMappings : containerMaps.uidMappings;
    const gids = m.gidMappings?.length ? m.gidMappings : containerMaps.gidMappings;
    if (!bind) throw new UnsupportedError(`${field}: id-mapped mounts must be bind mounts (got type ${JSON.stringify(m.type)})`);
    if (!uids?.length || !gids?.length) {
      throw new UsageError(`${field}: an id-mapped mount needs uidMappings and gidMappings (its own, or the container's)`);
    }
    idmap = { uidMap: mapText(uids), gidMap: mapText(gids), recursive: idmapOption === 'ridmap' };
  }
  if (bind) {
    if (!source) throw new UsageError(`${field}/source: a bind mount needs a source`);
    if (!isAbsolute(source)) source = join(bundle, source);
    const bindFlags = MS_BIND | (flags & MS_REC);
    return {
      ...(idmap ? { idmap } : {}),
      destination,
      source,
      type: 'bind',
      flags: bindFlags,
      remountFlags: flags & ~(MS_BIND | MS_REC),
      propagation,
      data: data.join(','),
      bind: true,
      recursiveAttr,
    };
  }
  if (!m.type) throw new UsageError(`${field}/type: is required for a mount that is not a bind mount`);
  return {
    destination,
    source,
    type: m.type,
    flags,
    remountFlags: 0,
    propagation,
    // proc and sysfs take no SELinux context (runc labels only filesystems that store files).
    data: m.type === 'proc' || m.type === 'sysfs' || m.type === 'cgroup' || m.type === 'cgroup2' ? data.join(',') : withMountLabel(data.join(','), mountLabel),
    bind: false,
    recursiveAttr,
  };
}

/** The devices runc gives every container whose /dev is not the host's. */
const DEFAULT_DEVICES: DeviceNode[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

/** /dev is set up by us unless the config bind-mounts something over /dev itself. */
export function needsDevSetup(steps: MountStep[]): boolean {
  return !steps.some((s) => s.destination.replace(/\/+$/, '') === '/dev' && s.bind);
}

export function planDevices(steps: MountStep[], devices: LinuxDevice[] | undefined): DeviceNode[] {
  const out = needsDevSetup(steps) ? [...DEFAULT_DEVICES] : [];
  for (const d of devices ?? []) {
    const node: DeviceNode = {
      path: d.path,
      type: d.type as DeviceNode['type'],
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      fileMode: d.fileMode ?? 0o666,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    };
    const i = out.findIndex((o) => o.path === node.path);
    if (i >= 0) out[i] = node;
    else out.push(node);
  }
  return out;
}

/** rootfsPropagation → the flags for mount("/"); default rslave, as runc. */
export function planRootPropagation(value: string | undefined): number {
  if (!value) return MS_SLAVE | MS_REC;
  const flag = PROPAGATION_OPTIONS[value];
  if (flag === undefined) throw new UsageError(`config.json: /linux/rootfsPropagation: unknown value ${JSON.stringify(value)}`);
  return flag;
}
