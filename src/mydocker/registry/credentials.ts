// Registry credentials in docker's config.json format:
//   { "auths": { "myreg:5000": { "auth": base64("user:password") },
//                "https://index.docker.io/v1/": { "auth": "…", "identitytoken": "…" } } }
// The file is $DOCKER_CONFIG/config.json when DOCKER_CONFIG is set (docker's variable: a
// docker user's login carries over), else <data root>/config.json (mydocker runs as root and
// keeps everything under its data root; `--root` moves it). Written atomically, mode 0600, its
// other keys kept as they were. Credential helpers (credsStore, credHelpers) are not run.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../images/reference.js';
import { DOCKER_HUB_AUTH_KEY } from './hosts.js';

export type Credentials = { username: string; password: string; identityToken?: string };

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  [k: string]: unknown;
}

export function credentialsPath(lib: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(lib, 'config.json');
}

/**
 * docker's ConvertToHostname plus Docker Hub's aliases: the key a server argument (`login
 * myreg:5000`, `login https://myreg:5000/v2/`, `login docker.io`) is filed under.
 */
export function serverKey(server: string | undefined): string {
  if (!server) return DOCKER_HUB_AUTH_KEY;
  let s = server.trim();
  s = s.replace(/^https?:\/\//, '');
  s = s.split('/')[0] ?? s;
  if (!s) throw new InputError(`login: ${JSON.stringify(server)} names no registry`);
  const lower = s.toLowerCase();
  if (lower === DEFAULT_DOMAIN || lower === 'index.docker.io' || lower === 'registry-1.docker.io' || lower === 'registry.hub.docker.com') return DOCKER_HUB_AUTH_KEY;
  return s;
}

/** The reference domain a credentials key is for. */
export function keyDomain(key: string): string {
  return key === DOCKER_HUB_AUTH_KEY ? DEFAULT_DOMAIN : key;
}

function readConfig(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InputError(`${path}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return {};
  try {
    const c = JSON.parse(text) as ConfigFile;
    if (!c || typeof c !== 'object' || Array.isArray(c)) throw new Error('want a JSON object');
    if (c.auths !== undefined && (typeof c.auths !== 'object' || c.auths === null || Array.isArray(c.auths))) throw new Error('auths: want an object');
    return c;
  } catch (e) {
    throw new InputError(`${path}: not a docker config file (${(e as Error).message})`);
  }
}

function decode(entry: AuthEntry, path: string, key: string): Credentials | undefined {
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i <= 0) throw new InputError(`${path}: auths["${key}"].auth: not base64 of "user:password"`);
    return { username: plain.slice(0, i), password: plain.slice(i + 1), ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}) };
  }
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (entry.identitytoken) return { username: '', password: '', identityToken: entry.identitytoken };
  return undefined;
}

/** The credentials filed for a registry key (keys are compared as docker does, by host). */
export function readCredentials(path: string, key: string): Credentials | undefined {
  const auths = readConfig(path).auths ?? {};
  if (auths[key]) return decode(auths[key]!, path, key);
  for (const [k, v] of Object.entries(auths)) {
    let nk: string;
    try {
      nk = serverKey(k);
    } catch {
      continue;
    }
    if (nk === key) return decode(v, path, k);
  }
  return undefined;
}

function writeConfig(path: string, c: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const data = Buffer.from(`${JSON.stringify(c, null, '\t')}\n`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function saveCredentials(path: string, key: string, creds: { username: string; password: string }): void {
  const c = readConfig(path);
  const auths = { ...(c.auths ?? {}) };
  // One entry per registry, under its canonical key.
  for (const k of Object.keys(auths)) {
    try {
      if (k !== key && serverKey(k) === key) delete auths[k];
    } catch {
      /* keep what we cannot read */
    }
  }
  auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  writeConfig(path, { ...c, auths });
}

/** Remove a registry's credentials; false when there were none. */
export function removeCredentials(path: string, key: string): boolean {
  const c = readConfig(path);
  const auths = { ...(c.auths ?? {}) };
  let found = false;
  for (const k of Object.keys(auths)) {
    let nk = k;
    try {
      nk = serverKey(k);
    } catch {
      /* compare as is */
    }
    if (k === key || nk === key) {
      delete auths[k];
      found = true;
    }
  }
  if (found) writeConfig(path, { ...c, auths });
  return found;
}
