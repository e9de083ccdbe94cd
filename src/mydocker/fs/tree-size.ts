// The size of a directory tree as docker counts it (moby's directory.Size): the apparent size
// of everything but directories, each inode once (hard links), never following a symlink and
// never crossing into another filesystem (a container's dirs may hold mount points).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function treeSize(root: string): number {
  let dev: number;
  try {
    dev = lstatSync(root).dev;
  } catch {
    return 0;
  }
  const seen = new Set<number>();
  let total = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // gone meanwhile
      }
      if (st.dev !== dev) continue;
      if (st.nlink > 1) {
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
      }
      if (st.isDirectory()) walk(p);
      else total += st.size;
    }
  };
  walk(root);
  return total;
}
