// Where a registry is and how mydocker may talk to it: the API host for a reference's domain,
// TLS or plain HTTP, the key its credentials are filed under, and whether `run`/`create` may
// pull from it without being asked.
//
// Settings come from <data root>/daemon.json, with docker's key names (docker keeps them in
// /etc/docker/daemon.json; mydocker has no daemon, and `--root` moves this file too):
//   { "insecure-registries": ["myreg:5000", "10.0.0.0/8"],
//     "max-concurrent-downloads": 3, "max-concurrent-uploads": 5 }
// An insecure registry is tried over HTTPS without certificate verification, then over plain
// HTTP (docker's order). Registries on this machine (localhost, 127.0.0.0/8, ::1) are insecure
// without being listed, as docker treats 127.0.0.0/8. Host names are never resolved to check a
// CIDR (docker does; here that would send a DNS query for every pull).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../images/reference.js';

/** Docker Hub's API host (docker.io is its name in references). */
export const DOCKER_HUB_API = 'registry-1.docker.io';
/** The key docker files Docker Hub's credentials under in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface RegistrySettings {
  /** host, host:port or an IPv4 CIDR. */
  insecure: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
}

/** <lib>/daemon.json */
export function settingsPath(lib: string): string {
  return join(lib, 'daemon.json');
}

function count(v: unknown, key: string, file: string, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 64) throw new InputError(`${file}: ${key}: want an integer from 1 to 64 (got ${JSON.stringify(v)})`);
  return v;
}

/** The data root's registry settings, plus `extraInsecure` (the verbs' --insecure-registry). */
export function loadSettings(lib: string, extraInsecure: string[] = []): RegistrySettings {
  const file = settingsPath(lib);
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${file}: want a JSON object`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof InputError) throw e;
      throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    raw = {};
  }
  const insecure = raw['insecure-registries'] ?? [];
  if (!Array.isArray(insecure) || insecure.some((s) => typeof s !== 'string')) throw new InputError(`${file}: insecure-registries: want a list of host[:port] or CIDR strings`);
  for (const s of [...(insecure as string[]), ...extraInsecure]) checkInsecureEntry(s, extraInsecure.includes(s) ? '--insecure-registry' : `${file}: insecure-registries`);
  return {
    insecure: [...(insecure as string[]), ...extraInsecure],
    maxConcurrentDownloads: count(raw['max-concurrent-downloads'], 'max-concurrent-downloads', file, 3),
    maxConcurrentUploads: count(raw['max-concurrent-uploads'], 'max-concurrent-uploads', file, 5),
  };
}

function checkInsecureEntry(s: string, where: string): void {
  if (s.includes('/')) {
    if (!parseCidr(s)) throw new InputError(`${where}: ${s}: not an IPv4 CIDR (like 10.0.0.0/8)`);
    return;
  }
  if (!/^(?:\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+)(?::\d{1,5})?$/.test(s)) throw new InputError(`${where}: ${s}: want host, host:port or a CIDR`);
}

/** "host:port" → ["host", "port"]; "[::1]:5000" → ["::1", "5000"]. */
export function splitHostPort(domain: string): { host: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(domain);
  if (v6) return v6[2] ? { host: v6[1]!, port: v6[2] } : { host: v6[1]! };
  const i = domain.lastIndexOf(':');
  return i === -1 ? { host: domain } : { host: domain.slice(0, i), port: domain.slice(i + 1) };
}

function ipv4(s: string): number | null {
  if (isIP(s) !== 4) return null;
  return s.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
}

function parseCidr(s: string): { base: number; mask: number } | null {
  const [ip, bits] = s.split('/');
  const base = ipv4(ip ?? '');
  const n = Number(bits);
  if (base === null || !Number.isInteger(n) || n < 0 || n > 32 || bits === '') return null;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return { base: (base & mask) >>> 0, mask };
}

/** localhost, 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = ipv4(h);
  if (v4 !== null) return v4 >>> 24 === 127;
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/** One of this machine's own addresses. */
function isOwnAddress(host: string): boolean {
  if (!isIP(host)) return false;
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.address === host) return true;
  return false;
}

/** Whether a registry may be spoken to without verified TLS (tried in HTTPS first, then HTTP). */
export function isInsecure(domain: string, settings: RegistrySettings): boolean {
  const { host } = splitHostPort(domain);
  if (isLoopback(host)) return true;
  const v4 = ipv4(host);
  for (const e of settings.insecure) {
    if (e === domain || e === host) return true;
    const c = e.includes('/') ? parseCidr(e) : null;
    if (c && v4 !== null && ((v4 & c.mask) >>> 0) === c.base) return true;
  }
  return false;
}

/** The host[:port] the API is at (docker.io's is registry-1.docker.io). */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_API : domain;
}

/** The config.json key of a registry's credentials. */
export function authKey(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_AUTH_KEY : domain;
}

/**
 * Whether `run`/`create` may pull a missing image from this registry without being asked: one
 * on this machine, one listed as insecure, or one the user has logged in to. Any other
 * (Docker Hub included) is pulled only by `mydocker pull`, so that a mistyped image name on a
 * closed network is a clear "No such image" and no traffic leaves the machine.
 */
export function autoPullAllowed(domain: string, settings: RegistrySettings, hasCredentials: boolean): boolean {
  const { host } = splitHostPort(domain);
  return isLoopback(host) || isOwnAddress(host) || isInsecure(domain, settings) || hasCredentials;
}
