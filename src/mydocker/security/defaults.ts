// docker's security defaults for a container, as data: the capability set, the /proc and /sys
// paths masked or made read-only, and what --privileged, --cap-add/--cap-drop and
// --security-opt change. The seccomp profile is in seccomp-profile.ts.
import { readFileSync } from 'node:fs';
import { CAPABILITIES } from '../../spec/tables.js';
import { InputError } from '../errors.js';

/** docker's default capabilities (moby's oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** docker masks and write-protects the same /proc and /sys entries as runc's default spec. */
export { DEFAULT_MASKED_PATHS as DOCKER_MASKED_PATHS, DEFAULT_READONLY_PATHS as DOCKER_READONLY_PATHS } from '../../spec/defaults.js';

/** "net_admin", "CAP_NET_ADMIN", "ALL" → canonical names (ALL stays ALL). */
export function normalizeCap(flag: string, name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!Object.hasOwn(CAPABILITIES, full)) throw new InputError(`${flag} ${name}: unknown capability`);
  return full;
}

/**
 * The capabilities this process may hand out: its bounding set. --privileged grants these
 * (as podman does), not every capability the kernel knows: a host without CAP_SYS_RESOURCE
 * (this kind of sandbox) could never give it, and asking for it would fail every container.
 */
export function boundingCaps(): string[] {
  let mask = (1n << 64n) - 1n;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) mask = BigInt(`0x${m[1]}`);
  } catch {
    /* no /proc: assume everything */
  }
  return Object.entries(CAPABILITIES)
    .filter(([, n]) => (mask >> BigInt(n)) & 1n)
    .map(([name]) => name);
}

/** docker's rule: start from the defaults (or all, privileged), drop, then add; ALL in either. */
export function effectiveCaps(privileged: boolean, add: string[], drop: string[]): string[] {
  const all = boundingCaps();
  if (privileged) return all;
  const adds = add.map((c) => normalizeCap('--cap-add', c));
  const drops = drop.map((c) => normalizeCap('--cap-drop', c));
  let caps = new Set<string>(drops.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS);
  for (const d of drops) caps.delete(d);
  if (adds.includes('ALL')) caps = new Set(all);
  for (const a of adds) if (a !== 'ALL') caps.add(a);
  return [...caps].sort((a, b) => CAPABILITIES[a]! - CAPABILITIES[b]!);
}
