// Which image a `run`/`create` means. An image of that name always wins; the default image
// (busybox, built in) is loaded on first need; and the book's image-less form — `mydocker run
// -ti sh`, `mydocker run -d top` — runs the command in the default image when no image has
// that name and the default image has that command. An image the store lacks is pulled first
// when its registry is reachable here (../registry/auto-pull.ts).
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../engine.js';
import { InputError, NotFoundError } from '../errors.js';
import type { Image } from './types.js';

export interface RunTarget {
  imageRef: string;
  image: Image;
  command: string[];
}

const DEFAULT_NAMES = new Set(['busybox', 'busybox:latest', 'library/busybox', 'library/busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest']);

/** `--pull`: docker's policies. */
export type PullPolicy = 'missing' | 'always' | 'never';

export function parsePullPolicy(v: string | undefined): PullPolicy {
  if (v === undefined || v === 'missing') return 'missing';
  if (v === 'always' || v === 'never') return v;
  throw new InputError(`--pull ${v}: invalid pull policy (always, missing or never)`);
}

export async function resolveRunTarget(engine: Engine, ref: string, command: string[], pull: PullPolicy = 'missing'): Promise<RunTarget> {
  if (pull === 'always') {
    // Asked for explicitly: from its registry, whatever the store has (docker's --pull always).
    const pulled = await (await import('../registry/auto-pull.js')).pullForRun(engine, ref, { always: true });
    if (pulled) return { imageRef: ref, image: pulled, command };
  }
  const found = engine.findImage(ref) ?? (DEFAULT_NAMES.has(ref) ? await engine.images.ensureDefault() : null);
  if (found) return { imageRef: ref, image: found, command };
  const def = await engine.images.ensureDefault();
  if (!ref.includes(':') && (await hasCommand(engine, def, ref))) return { imageRef: 'busybox', image: def, command: [ref, ...command] };
  // Not here: pulled, as docker does, when the reference names a registry reachable here.
  const pulled = pull === 'never' ? null : await (await import('../registry/auto-pull.js')).pullForRun(engine, ref);
  if (pulled) return { imageRef: ref, image: pulled, command };
  throw new NotFoundError('image', `${ref}${ref.includes(':') || ref.includes('@') ? '' : ':latest'} (not in the image store; load, import or pull it first)`);
}

/**
 * The built-in busybox named by one of its names and not loaded yet (a fresh root): load it,
 * so `tag busybox x`, `save busybox`, `history busybox` find what `run busybox` would run.
 */
export async function loadDefaultIfNamed(engine: Engine, refs: string[]): Promise<void> {
  if (refs.some((r) => DEFAULT_NAMES.has(r) && !engine.findImage(r))) await engine.images.ensureDefault();
}

/** Whether `cmd` names an executable of the image: a path, or a name on its PATH. */
async function hasCommand(engine: Engine, image: Image, cmd: string): Promise<boolean> {
  if (!/^[\w./+-]+$/.test(cmd) || cmd.includes('..')) return false;
  const env = image.config.config?.Env ?? [];
  const path = (env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  const candidates = cmd.includes('/') ? [cmd] : path.map((d) => join(d, cmd));
  const layers = [...(await engine.images.layerDirs(image))].reverse();
  for (const c of candidates) {
    for (const l of layers) {
      try {
        lstatSync(join(l, c));
        return true;
      } catch {
        /* not in this layer */
      }
    }
  }
  return false;
}
