// statvfs(3): the per-mount flags a bind remount must carry over (a remount replaces them all).
import { check, koffi, libcFn } from './ffi.js';
import {
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_RELATIME,
  MS_SYNCHRONOUS,
} from './mount.js';

const ST_FLAGS: [number, number][] = [
  [1, MS_RDONLY],
  [2, MS_NOSUID],
  [4, MS_NODEV],
  [8, MS_NOEXEC],
  [16, MS_SYNCHRONOUS],
  [64, MS_MANDLOCK],
  [1024, MS_NOATIME],
  [2048, MS_NODIRATIME],
  [4096, MS_RELATIME],
];

let statvfsType: unknown;

/** The MS_* flags of the mount that holds `path`. */
export function mountFlagsOf(path: string): number {
  statvfsType ??= koffi.struct('mdr_statvfs', {
    bsize: 'uint64',
    frsize: 'uint64',
    blocks: 'uint64',
    bfree: 'uint64',
    bavail: 'uint64',
    files: 'uint64',
    ffree: 'uint64',
    favail: 'uint64',
    fsid: 'uint64',
    flag: 'uint64',
    namemax: 'uint64',
    spare: koffi.array('int', 6),
  });
  const out: { flag?: number | bigint } = {};
  check(libcFn('int statvfs(const char *path, _Out_ mdr_statvfs *buf)')(path, out), 'statvfs', path);
  const st = Number(out.flag ?? 0);
  let ms = 0;
  for (const [stBit, msBit] of ST_FLAGS) if (st & stBit) ms |= msBit;
  return ms;
}
