// `-u/--user` as docker resolves it: "name", "uid", "name:group", "uid:gid", looked up in the
// container's own /etc/passwd and /etc/group (never the host's), with the supplementary groups
// the group file lists the user in. The files are read inside the rootfs without following a
// symlink out of it: an image may make /etc/passwd a link to the host's.
import { closeSync, readFileSync } from 'node:fs';
import { openRoot, resolveInRoot } from '../../rootfs/safe-path.js';
import { InputError } from '../errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A file of the rootfs, resolved inside it; '' when absent. */
export function readInRoot(rootfs: string, path: string): string {
  const root = openRoot(rootfs);
  try {
    const fd = resolveInRoot(root, path);
    if (fd === null) return '';
    try {
      return readFileSync(`/proc/self/fd/${fd}`, 'utf8');
    } catch {
      return '';
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(root);
  }
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(',').filter(Boolean) });
  }
  return out;
}

const isId = (s: string) => /^\d+$/.test(s);

/** Pure resolution against the two files' text (unit-tested). */
export function resolveUserIn(spec: string, passwd: string, group: string, flag = '--user'): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  let uid: number;
  let gid: number;
  let name: string | undefined;
  let home = '/';
  const byUid = isId(userPart) ? users.find((u) => u.uid === Number(userPart)) : users.find((u) => u.name === userPart);
  if (byUid) {
    uid = byUid.uid;
    gid = byUid.gid;
    name = byUid.name;
    home = byUid.home || '/';
  } else if (isId(userPart)) {
    uid = Number(userPart);
    gid = 0; // docker: a uid with no passwd entry runs with gid 0
  } else if (userPart === '') {
    uid = 0;
    gid = 0;
    name = 'root';
    home = '/root';
  } else {
    throw new InputError(`${flag} ${spec}: unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (uid > 0xfffffffe) throw new InputError(`${flag} ${spec}: uid ${uid} is out of range`);
  if (groupPart !== undefined && groupPart !== '') {
    const g = isId(groupPart) ? groups.find((x) => x.gid === Number(groupPart)) : groups.find((x) => x.name === groupPart);
    if (g) gid = g.gid;
    else if (isId(groupPart)) gid = Number(groupPart);
    else throw new InputError(`${flag} ${spec}: unable to find group ${groupPart}: no matching entries in group file`);
  }
  // Supplementary groups: every group that lists the user by name (docker does this when no
  // group was given explicitly, and keeps them with one too).
  const additionalGids = name ? [...new Set(groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid))] : [];
  return { uid, gid, additionalGids, home };
}

export function resolveUser(rootfs: string, spec: string, flag = '--user'): ResolvedUser {
  return resolveUserIn(spec, readInRoot(rootfs, '/etc/passwd'), readInRoot(rootfs, '/etc/group'), flag);
}

/** --group-add: numbers as they are, names looked up in the image's /etc/group (docker's rule). */
export function groupAddIn(groups: string[], group: string): number[] {
  const entries = parseGroup(group);
  return groups.map((g) => {
    if (isId(g)) return Number(g);
    const e = entries.find((x) => x.name === g);
    if (!e) throw new InputError(`--group-add ${g}: unable to find group ${g}: no matching entries in group file`);
    return e.gid;
  });
}

export function resolveGroupAdd(rootfs: string, groups: string[]): number[] {
  return groups.length ? groupAddIn(groups, readInRoot(rootfs, '/etc/group')) : [];
}
