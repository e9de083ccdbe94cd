// Facts about the host that decide whether a limit can be applied: huge page sizes and swap.
// Passed to controllers through ApplyContext so unit tests can pretend.
import { readdirSync, readFileSync } from 'node:fs';
import type { LinuxResources } from '../spec/generated/types.js';

export interface HostFacts {
  /** Huge page sizes in the spec's notation ("2MB", "1GB"). */
  hugePageSizes(): string[];
  /** SwapTotal in bytes (0: the host has no swap at all). */
  swapTotal(): number;
}

export interface ApplyContext {
  /** `update` of a live container (create otherwise). */
  update: boolean;
  host: HostFacts;
}

/** "hugepages-2048kB" → "2MB", like runc (units.CustomSize "%g%s" with 1024 steps). */
export function hugePageSizeName(kB: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let size = kB * 1024;
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return `${size}${units[i]}`;
}

export const realHost: HostFacts = {
  hugePageSizes() {
    try {
      return readdirSync('/sys/kernel/mm/hugepages')
        .map((n) => /^hugepages-(\d+)kB$/.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => hugePageSizeName(Number(m[1])));
    } catch {
      return [];
    }
  },
  swapTotal() {
    try {
      const m = /^SwapTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  },
};

export type Resources = LinuxResources;

/** Does `obj` (a spec sub-object) set anything at all? */
export function anySet(obj: object | undefined): boolean {
  if (!obj) return false;
  return Object.values(obj).some((v) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0));
}
