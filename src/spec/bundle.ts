// Loading an OCI bundle: <bundle>/config.json parsed and checked against the schema, and the
// rootfs located. Cross-field and host checks are check.ts's (checkConfig), run by the
// caller after this.
//
// Paths in the config that the spec calls relative are made absolute here, once, so no later
// code can resolve them against the runtime's cwd by mistake:
//   - root.path is relative to the bundle directory;
//   - a relative mount destination (deprecated by the spec) is relative to the container's "/".
import { readFileSync, statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Spec } from './generated/types.js';
import { parseJson, validateConfig } from './validate.js';

export interface LoadedBundle {
  /** Absolute path of the bundle directory. */
  bundle: string;
  /** The validated config, with root.path and mount destinations made absolute. */
  config: Spec;
  /** Absolute path of the root filesystem (an existing directory); equals config.root.path. */
  rootfs: string;
}

export function loadBundle(bundleDir: string): LoadedBundle {
  const bundle = resolve(bundleDir);
  const configPath = `${bundle}/config.json`;
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ConfigError(`bundle ${bundle}: config.json not found`, { cause: e });
    throw new ConfigError(`bundle ${bundle}: cannot read config.json: ${(e as Error).message}`, { cause: e });
  }
  const config = validateConfig(parseJson(text, 'config.json'), 'config.json');

  const rootfs = resolve(bundle, config.root.path);
  checkDirectory(rootfs, 'config.json: /root/path');
  config.root.path = rootfs;

  for (const m of config.mounts ?? []) m.destination = absoluteDestination(m.destination);
  return { bundle, config, rootfs };
}

/** A mount destination inside the container, made absolute (relative ones are taken from "/"). */
export function absoluteDestination(dest: string): string {
  return dest.startsWith('/') ? dest : posix.resolve('/', dest);
}

function checkDirectory(path: string, field: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ConfigError(`${field}: ${path} does not exist`, { cause: e });
    throw new ConfigError(`${field}: ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!isDir) throw new ConfigError(`${field}: ${path} is not a directory`);
}
