// Removing a tree that mydocker made, never crossing into another filesystem.
//
// rm -rf follows no symlinks but does cross mount points: a bind mount left under a
// container's directory (a crash between mount and cleanup, a host directory mounted there)
// would lose the user's files. This walk refuses to enter any directory on another device or
// listed as a mount point, and reports it instead: the caller unmounts first (mounts.ts).
import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MydockerError } from '../errors.js';
import { mountsUnder } from './mounts.js';

/** Remove `path` and everything below it on the same filesystem. A missing path is fine. */
export function removeTree(path: string): void {
  let top;
  try {
    top = lstatSync(path, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const mounted = mountsUnder(path);
  if (mounted.length) {
    throw new MydockerError(`remove ${path}: ${mounted[mounted.length - 1]} is still mounted; refusing to delete across a mount point`);
  }
  if (!top.isDirectory()) {
    unlinkSync(path);
    return;
  }
  walk(path, top.dev);
}

function walk(dir: string, dev: bigint): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = lstatSync(p, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    if (st.isDirectory()) {
      if (st.dev !== dev) throw new MydockerError(`remove ${p}: on another filesystem; refusing to delete across a mount point`);
      walk(p, dev);
    } else {
      unlinkSync(p);
    }
  }
  try {
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
