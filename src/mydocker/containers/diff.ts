// `diff`: what a container changed in its filesystem, as docker lists it — "A" added, "C"
// changed, "D" deleted — read from its overlay upper dir: a whiteout (a 0/0 character device)
// is a deletion, an entry the image has is a change, anything else an addition. The parents of
// a change are changed directories, as in docker's list. Never follows a symlink.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { lgetxattr } from '../../kernel/at.js';

export interface Change {
  Path: string;
  /** docker's Kind: 0 changed, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2;
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/** Whether the image (its layers, top-most first) has `rel`: the first layer that says wins. */
function inImage(lowers: string[], rel: string): boolean {
  for (const l of lowers) {
    const st = lstatOrNull(join(l, rel));
    if (st) return !isWhiteout(st);
  }
  return false;
}

/** The changes of `upper` against `lowers` (top-most first), sorted by path. */
export function containerChanges(upper: string, lowers: string[]): Change[] {
  const out = new Map<string, Change['Kind']>();
  const mark = (rel: string, kind: Change['Kind']) => {
    out.set(`/${rel}`, kind);
    // Its parents are changed directories (docker lists them), unless added themselves.
    for (let p = rel.lastIndexOf('/'); p > 0; p = rel.lastIndexOf('/', p - 1)) {
      const parent = `/${rel.slice(0, p)}`;
      if (!out.has(parent)) out.set(parent, 0);
    }
  };
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(upper, rel));
    } catch {
      return;
    }
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatOrNull(join(upper, r));
      if (!st) continue;
      if (isWhiteout(st)) {
        mark(r, 2);
        continue;
      }
      const existed = inImage(lowers, r);
      if (st.isDirectory()) {
        // An opaque directory replaced the image's (removed, then made again): the image's is
        // deleted, as docker and podman list it, and what is in the new one is added.
        const opaque = existed && lgetxattr(join(upper, r), 'trusted.overlay.opaque')?.toString() === 'y';
        if (!existed || opaque) mark(r, existed ? 2 : 1);
        walk(r);
        continue;
      }
      mark(r, existed ? 0 : 1);
    }
  };
  walk('');
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([Path, Kind]) => ({ Path, Kind }));
}
