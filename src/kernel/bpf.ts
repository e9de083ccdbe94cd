// bpf(2) for cgroup device programs: load a program, attach it to a cgroup directory, list
// and detach what is attached. Only what the cgroup v2 device controller needs.
//
// bpf_attr is a union; each command reads its own prefix. We build it as a zeroed Buffer of
// ATTR_SIZE bytes (the kernel requires the bytes it does not know to be zero) and put
// pointers to other Buffers in it as u64 addresses (koffi.address; Node Buffers do not move).
import { check, KernelError, koffi, libcFn, syscallNumber } from './ffi.js';

export const BPF_PROG_LOAD = 5;
export const BPF_PROG_ATTACH = 8;
export const BPF_PROG_DETACH = 9;
export const BPF_PROG_GET_FD_BY_ID = 13;
export const BPF_PROG_QUERY = 16;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

const ATTR_SIZE = 128;
const ENOSPC = 28;

function bpf(cmd: number, attr: Buffer, what: string, detail?: string): number {
  const sc = libcFn('long syscall(long number, ...)');
  return check(sc(syscallNumber('bpf'), 'int', cmd, 'void *', attr, 'unsigned int', attr.length), `bpf(${what})`, detail);
}

/**
 * Load a program (raw instructions, 8 bytes each). On a verifier rejection the error message
 * carries the verifier's log.
 */
export function bpfProgLoad(progType: number, insns: Buffer, license: string, name = ''): number {
  const lic = Buffer.from(`${license}\0`);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(progType, 0); // prog_type
  attr.writeUInt32LE(insns.length / 8, 4); // insn_cnt
  attr.writeBigUInt64LE(koffi.address(insns), 8); // insns
  attr.writeBigUInt64LE(koffi.address(lic), 16); // license
  attr.write(name.slice(0, 15), 48, 'latin1'); // prog_name[16]
  try {
    return bpf(BPF_PROG_LOAD, attr, 'BPF_PROG_LOAD');
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    // Retry with the verifier log on, to say why.
    const log = Buffer.alloc(64 * 1024);
    attr.writeUInt32LE(1, 24); // log_level
    attr.writeUInt32LE(log.length, 28); // log_size
    attr.writeBigUInt64LE(koffi.address(log), 32); // log_buf
    try {
      return bpf(BPF_PROG_LOAD, attr, 'BPF_PROG_LOAD');
    } catch {
      const lines = log
        .toString('latin1', 0, Math.max(0, log.indexOf(0)))
        .split('\n')
        .filter((l) => l.trim() && !/^(processed \d+ insns|verification time)/.test(l));
      throw new KernelError('bpf(BPF_PROG_LOAD)', e.errno, lines.length ? `(verifier: ${lines.slice(-3).join(' | ')})` : undefined);
    }
  }
}

export function bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number, what = ''): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(targetFd, 0); // target_fd
  attr.writeUInt32LE(progFd, 4); // attach_bpf_fd
  attr.writeUInt32LE(attachType, 8); // attach_type
  attr.writeUInt32LE(flags, 12); // attach_flags
  bpf(BPF_PROG_ATTACH, attr, 'BPF_PROG_ATTACH', what);
}

export function bpfProgDetach(targetFd: number, progFd: number, attachType: number, what = ''): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(targetFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(attachType, 8);
  bpf(BPF_PROG_DETACH, attr, 'BPF_PROG_DETACH', what);
}

/** Ids of the programs attached to `targetFd` (a cgroup directory) for `attachType`. */
export function bpfProgQuery(targetFd: number, attachType: number, what = ''): number[] {
  let size = 64;
  for (let attempt = 0; attempt < 10; attempt++) {
    const ids = Buffer.alloc(size * 4);
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(targetFd, 0); // target_fd
    attr.writeUInt32LE(attachType, 4); // attach_type
    attr.writeBigUInt64LE(koffi.address(ids), 16); // prog_ids
    attr.writeUInt32LE(size, 24); // prog_cnt
    try {
      bpf(BPF_PROG_QUERY, attr, 'BPF_PROG_QUERY', what);
    } catch (e) {
      if (e instanceof KernelError && e.errno === ENOSPC) {
        size = Math.max(size * 2, attr.readUInt32LE(24));
        continue;
      }
      throw e;
    }
    const n = attr.readUInt32LE(24);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(ids.readUInt32LE(i * 4));
    return out;
  }
  throw new Error(`bpf(BPF_PROG_QUERY) ${what}: the list of attached programs keeps growing`);
}

export function bpfProgGetFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0);
  return bpf(BPF_PROG_GET_FD_BY_ID, attr, 'BPF_PROG_GET_FD_BY_ID', `id ${id}`);
}
