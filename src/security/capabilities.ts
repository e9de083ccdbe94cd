// Capability sets: bounding (prctl drop), then after the uid switch effective, permitted,
// inheritable (capset) and ambient (prctl raise). Capabilities are per thread: this must run
// on the thread that execve()s, i.e. Node's main thread.
import { readFileSync } from 'node:fs';
import { check, koffi, libcFn } from '../kernel/ffi.js';
import {
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
  PR_CAPBSET_READ,
  prctl,
} from '../kernel/process.js';
import type { Capabilities } from '../process/init-config.js';

const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

export function lastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40;
  }
}

/** Drop from the bounding set every capability not in `keep` (needs CAP_SETPCAP). */
export function applyBounding(keep: number[]): void {
  const wanted = new Set(keep);
  const last = lastCap();
  for (let cap = 0; cap <= last; cap++) {
    if (wanted.has(cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap) === 0) continue;
    prctl(PR_CAPBSET_DROP, cap);
  }
}

function mask(caps: number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const c of caps) {
    if (c < 32) lo |= 1 << c;
    else hi |= 1 << (c - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

let types: { header: unknown; data: unknown } | undefined;

export function capset(effective: number[], permitted: number[], inheritable: number[]): void {
  types ??= {
    header: koffi.struct('mdr_cap_header', { version: 'uint32', pid: 'int' }),
    data: koffi.struct('mdr_cap_data', { effective: 'uint32', permitted: 'uint32', inheritable: 'uint32' }),
  };
  const [e0, e1] = mask(effective);
  const [p0, p1] = mask(permitted);
  const [i0, i1] = mask(inheritable);
  const fn = libcFn('int capset(mdr_cap_header *hdr, mdr_cap_data *data)');
  const data = [
    { effective: e0, permitted: p0, inheritable: i0 },
    { effective: e1, permitted: p1, inheritable: i1 },
  ];
  // koffi passes a JS array for a struct pointer as a C array of two structs.
  const ret = fn({ version: LINUX_CAPABILITY_VERSION_3, pid: 0 }, koffi.as(data, 'mdr_cap_data *'));
  check(ret, 'capset');
}

/** Everything after the uid switch: the three capset sets, then ambient. */
export function applyCapabilities(caps: Capabilities): void {
  capset(caps.effective, caps.permitted, caps.inheritable);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  for (const cap of caps.ambient) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap);
}
