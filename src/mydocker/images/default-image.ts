// The embedded default image: busybox:latest, a docker-save archive that `make` builds from
// the host's static busybox (src/build/default-image.ts), so that `mydocker run busybox …`
// works offline on a fresh machine. ensureDefault() loads it on first need; when the store
// has busybox:latest already it reads nothing but the index.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MydockerError, NotFoundError } from '../errors.js';
import type { ImageStore } from './store.js';
import type { Image } from './types.js';

/** The reference the embedded image is loaded under. */
export const DEFAULT_IMAGE_REF = 'docker.io/library/busybox:latest';
/** Where the build puts it, relative to the repository (dist/ is what `make` produces). */
export const DEFAULT_IMAGE_DIST_PATH = 'dist/images/busybox.tar';

/**
 * The embedded image's archive: $MYDOCKER_DEFAULT_IMAGE, else dist/images/busybox.tar found
 * from this module's place (dist/cli.js in the bundle, build/src/… in tests).
 */
export function defaultImageArchive(): string {
  const env = process.env.MYDOCKER_DEFAULT_IMAGE;
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  let first: string | undefined;
  for (let i = 0; i < 8; i++) {
    const candidates = basename(dir) === 'dist' ? [join(dir, 'images/busybox.tar')] : [join(dir, DEFAULT_IMAGE_DIST_PATH)];
    for (const c of candidates) {
      first ??= c;
      if (existsSync(c)) return c;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return first!;
}

export async function ensureDefault(store: ImageStore): Promise<Image> {
  try {
    return store.get(DEFAULT_IMAGE_REF);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  const archive = defaultImageArchive();
  if (!existsSync(archive)) throw new MydockerError(`the embedded busybox image is missing (${archive}): run make`);
  await store.load(archive);
  return store.get(DEFAULT_IMAGE_REF);
}
