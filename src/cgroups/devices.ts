// linux.resources.devices: the rule list, evaluated the way the v1 devices controller does,
// so that v1 (devices.allow/devices.deny) and v2 (an eBPF program) give the same answer.
//
// Semantics (the kernel's, as runc's devices emulator models them):
//   - evaluation starts from "deny everything" with no exceptions;
//   - a type "a" rule (whatever its major/minor/access) resets: allow → allow-all, deny → deny-all,
//     and clears the exceptions;
//   - in deny-all mode an allow rule adds an exception (access merged with an identical
//     one) and a deny rule removes access from an identical exception; in allow-all mode the
//     other way round;
//   - removing access that a *wildcard* exception grants (e.g. deny c 1:3 after allow c *:* rwm
//     in deny-all mode) cannot be expressed by the kernel's list, which would silently keep it:
//     refused with an error naming the rule.
// Fields: type absent = "a"; major/minor absent or -1 = wildcard "*"; access absent or "" = "rwm".
//
// runc always adds its default devices (null, zero, full, random, urandom, tty, ptmx, pts,
// tun, mknod of any c/b) after the spec's rules; `withDefaultDevices` does the same for the
// lifecycle. The manager itself applies exactly the list it is given, and leaves the device
// controller alone when `devices` is absent.
import { ConfigError } from '../errors.js';
import type { LinuxDeviceCgroup } from '../spec/generated/types.js';

export type DeviceType = 'a' | 'b' | 'c';

export interface DeviceRule {
  allow: boolean;
  type: DeviceType;
  /** -1 = any */
  major: number;
  /** -1 = any */
  minor: number;
  /** Subset of "rwm", in that order. */
  access: string;
}

export interface DeviceState {
  defaultAllow: boolean;
  /** Rules whose `allow` is the opposite of defaultAllow, sorted. */
  exceptions: DeviceRule[];
}

const F = 'linux.resources.devices';

function canonicalAccess(set: Set<string>): string {
  return ['r', 'w', 'm'].filter((c) => set.has(c)).join('');
}

/** Normalize one spec rule (with its index for errors). */
export function normalizeRule(r: LinuxDeviceCgroup, i: number): DeviceRule {
  const field = `${F}[${i}]`;
  if (typeof r.allow !== 'boolean') throw new ConfigError(`${field}.allow: must be true or false`);
  const type = (r.type ?? 'a') as string;
  if (type !== 'a' && type !== 'b' && type !== 'c') throw new ConfigError(`${field}.type: ${JSON.stringify(type)} is not a, b or c`);
  const num = (v: number | undefined | null, name: string): number => {
    if (v === undefined || v === null || v === -1) return -1;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ConfigError(`${field}.${name}: ${v} is not valid`);
    return v;
  };
  const access = r.access ?? '';
  if (!/^[rwm]*$/.test(access)) throw new ConfigError(`${field}.access: ${JSON.stringify(access)} is not made of r, w and m`);
  return {
    allow: r.allow,
    type,
    major: num(r.major, 'major'),
    minor: num(r.minor, 'minor'),
    access: access === '' ? 'rwm' : canonicalAccess(new Set(access)),
  };
}

const key = (t: string, maj: number, min: number) => `${t} ${maj} ${min}`;

/** Apply rules in order; the final default and exceptions. */
export function emulateDevices(rules: LinuxDeviceCgroup[]): DeviceState {
  let defaultAllow = false;
  let exc = new Map<string, { type: DeviceType; major: number; minor: number; access: Set<string> }>();

  const add = (r: DeviceRule) => {
    const k = key(r.type, r.major, r.minor);
    const cur = exc.get(k);
    if (cur) for (const c of r.access) cur.access.add(c);
    else exc.set(k, { type: r.type, major: r.major, minor: r.minor, access: new Set(r.access) });
  };
  const remove = (r: DeviceRule, i: number) => {
    for (const [maj, min] of [
      [-1, r.minor],
      [r.major, -1],
      [-1, -1],
    ] as const) {
      if (maj === r.major && min === r.minor) continue;
      const wild = exc.get(key(r.type, maj, min));
      if (wild && [...r.access].some((c) => wild.access.has(c))) {
        const show = (n: number) => (n < 0 ? '*' : String(n));
        throw new ConfigError(
          `${F}[${i}]: ${r.allow ? 'allow' : 'deny'} ${r.type} ${show(r.major)}:${show(r.minor)} ${r.access} cannot punch a hole in the earlier wildcard rule ${r.type} ${show(maj)}:${show(min)} ${canonicalAccess(wild.access)} (the devices controller cannot express it)`,
        );
      }
    }
    const k = key(r.type, r.major, r.minor);
    const cur = exc.get(k);
    if (!cur) return;
    for (const c of r.access) cur.access.delete(c);
    if (!cur.access.size) exc.delete(k);
  };

  rules.forEach((raw, i) => {
    const r = normalizeRule(raw, i);
    if (r.type === 'a') {
      defaultAllow = r.allow;
      exc = new Map();
      return;
    }
    if (r.allow === defaultAllow) remove(r, i);
    else add(r);
  });

  const exceptions = [...exc.values()]
    .map((e) => ({ allow: !defaultAllow, type: e.type, major: e.major, minor: e.minor, access: canonicalAccess(e.access) }))
    // (Not localeCompare: its first call loads ICU's collation, ~7 ms of every create.)
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) || a.major - b.major || a.minor - b.minor);
  return { defaultAllow, exceptions };
}

/** A rule in the devices.allow / devices.deny syntax: "c 1:3 rwm", "b *:* m". */
export function ruleLine(r: Pick<DeviceRule, 'type' | 'major' | 'minor' | 'access'>): string {
  const n = (v: number) => (v < 0 ? '*' : String(v));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/** runc's default device rules (libcontainer/specconv AllowedDevices). */
export const DEFAULT_DEVICE_RULES: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

/**
 * The rule list runc would apply for a config: the spec's rules, then the default devices,
 * then an allow rwm for every device node in linux.devices (types b and c).
 */
export function withDefaultDevices(
  specRules: LinuxDeviceCgroup[] | undefined,
  linuxDevices: { type: string; major?: number; minor?: number }[] = [],
): LinuxDeviceCgroup[] {
  const fromNodes: LinuxDeviceCgroup[] = linuxDevices
    .filter((d) => d.type === 'c' || d.type === 'b' || d.type === 'u')
    .map((d) => ({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major ?? -1, minor: d.minor ?? -1, access: 'rwm' }));
  return [...(specRules ?? []), ...DEFAULT_DEVICE_RULES, ...fromNodes];
}
