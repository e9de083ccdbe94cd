// linux.cgroupsPath → the container's directory in each hierarchy.
//
//   absent or ""      /mydocker-runc/<id> under each hierarchy's root (our own parent)
//   "/test/c4"        absolute: relative to each hierarchy's root (containerd, podman)
//   "test/c4"         relative: like runc, relative to the cgroup of the runtime process
//                     itself: in each v1 hierarchy the runtime's own cgroup there; on a pure
//                     v2 host the *parent* of the runtime's cgroup (the runtime's own cgroup
//                     usually holds processes, so it cannot have controllers enabled for
//                     children). Because that depends on who runs `create`, the resolved
//                     directories are recorded (CgroupSpec.paths) and later verbs reuse them.
//   "slice:prefix:name" with --systemd-cgroup: the systemd driver, which we do not implement.
// ".." components are refused: a path must stay inside its hierarchy.
import { posix } from 'node:path';
import { ConfigError, UnsupportedError } from '../errors.js';
import type { CgroupSpec } from './manager.js';

/** Our own parent for containers without a cgroupsPath. */
export const DEFAULT_PARENT = 'mydocker-runc';

export const SYSTEMD_UNSUPPORTED = '--systemd-cgroup: the systemd cgroup driver is not supported; use cgroupfs';

export type PathKind = 'default' | 'absolute' | 'relative';

export interface InnerPath {
  kind: PathKind;
  /** Absolute path for 'default' and 'absolute'; the relative path for 'relative'. */
  path: string;
}

/** Validate and classify a spec's cgroupsPath. */
export function innerPath(spec: CgroupSpec): InnerPath {
  if (spec.systemd) throw new UnsupportedError(SYSTEMD_UNSUPPORTED);
  const raw = spec.cgroupsPath ?? '';
  if (raw === '') {
    if (!spec.id || spec.id.includes('/') || spec.id === '.' || spec.id === '..') {
      throw new ConfigError(`container id ${JSON.stringify(spec.id)}: cannot name a cgroup`);
    }
    return { kind: 'default', path: `/${DEFAULT_PARENT}/${spec.id}` };
  }
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new ConfigError(`linux.cgroupsPath ${JSON.stringify(raw)}: ".." is not allowed`);
  }
  if (!parts.length) {
    throw new ConfigError(`linux.cgroupsPath ${JSON.stringify(raw)}: cannot be a hierarchy's root`);
  }
  if (raw.startsWith('/')) return { kind: 'absolute', path: `/${parts.join('/')}` };
  return { kind: 'relative', path: parts.join('/') };
}

/**
 * The path of the container's cgroup inside one hierarchy (relative to its root, starting
 * with "/"). `own` is the runtime's own cgroup in that hierarchy (from /proc/self/cgroup);
 * `parentOfOwn` selects the v2 rule.
 */
export function resolveInner(p: InnerPath, own: string | undefined, parentOfOwn: boolean): string {
  if (p.kind !== 'relative') return p.path;
  let base = own ?? '/';
  if (parentOfOwn) base = posix.dirname(base);
  return posix.join('/', base, p.path);
}
