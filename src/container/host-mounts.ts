// Mounts a container without a mount namespace of its own made in the host's (the init
// reports each one as it makes it: its mount id and path, kept in state.json): delete (and a
// failed create) unmounts exactly those, deepest first — runc leaves them behind. A mount is
// only touched when the same id is still mounted at the same path: a later mount that reused
// the path is someone else's.
import { readFileSync } from 'node:fs';
import { MNT_DETACH, UMOUNT_NOFOLLOW, umount2 } from '../kernel/mount.js';

export function unmountRecorded(mounts: { id: number; path: string }[] | undefined): string[] {
  if (!mounts?.length) return [];
  const problems: string[] = [];
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (e) {
    return [`read /proc/self/mountinfo: ${(e as Error).message}`];
  }
  const live = new Set(
    info
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const f = l.split(' ');
        return `${f[0]} ${unescape(f[4] ?? '')}`;
      }),
  );
  for (const m of [...mounts].reverse()) {
    if (!live.has(`${m.id} ${m.path}`)) continue;
    try {
      umount2(m.path, MNT_DETACH | UMOUNT_NOFOLLOW);
    } catch (e) {
      problems.push(`unmount ${m.path}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
