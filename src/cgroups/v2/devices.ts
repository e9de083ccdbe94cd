// Device rules on cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, assembled
// here instruction by instruction, loaded with bpf(2) and attached to the cgroup directory
// (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI). Programs previously attached to the directory (an
// earlier create or update) are detached after the new one is in place, so the new rules are
// never looser than both old and new (multiple programs must all allow).
//
// The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } in R1,
// with access_type = (access << 16) | type; type BLOCK=1, CHAR=2; access MKNOD=1 READ=2 WRITE=4.
//
//   r2 = ctx->access_type & 0xffff        ; device type
//   r3 = ctx->access_type >> 16           ; requested access
//   r4 = ctx->major ; r5 = ctx->minor
//   for each exception rule (same layout as crun's and runc's programs):
//     if r2 != type goto next
//     if access != rwm: r1 = r3 & access; if r1 != r3 goto next   (requested ⊆ rule)
//     if major != *:  if r4 != major goto next
//     if minor != *:  if r5 != minor goto next
//     r0 = allow ; exit
//   next: ...
//   r0 = default ; exit
import { closeSync, constants, openSync } from 'node:fs';
import { RuntimeError } from '../../errors.js';
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgAttach,
  bpfProgDetach,
  bpfProgGetFdById,
  bpfProgLoad,
  bpfProgQuery,
} from '../../kernel/bpf.js';
import type { LinuxDeviceCgroup } from '../../spec/generated/types.js';
import type { CgroupDir } from '../dir.js';
import { type DeviceState, emulateDevices } from '../devices.js';

const F = 'linux.resources.devices';

export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;

// Opcodes (class | op | source).
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K   (32-bit)
const ALU_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_EXIT = 0x95; // BPF_JMP | BPF_EXIT

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** The program for a device state, as instructions. */
export function deviceProgram(state: DeviceState): Insn[] {
  const out: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (const r of state.exceptions) {
    const type = r.type === 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    let access = 0;
    if (r.access.includes('r')) access |= BPF_DEVCG_ACC_READ;
    if (r.access.includes('w')) access |= BPF_DEVCG_ACC_WRITE;
    if (r.access.includes('m')) access |= BPF_DEVCG_ACC_MKNOD;
    // Jumps are filled with a placeholder and fixed once the block's length is known.
    const block: Insn[] = [insn(JMP_JNE_K, 2, 0, -1, type)];
    if (access !== 7) {
      block.push(insn(ALU_MOV_X, 1, 3, 0, 0), insn(ALU_AND_K, 1, 0, 0, access), insn(JMP_JNE_X, 1, 3, -1, 0));
    }
    if (r.major >= 0) block.push(insn(JMP_JNE_K, 4, 0, -1, r.major | 0));
    if (r.minor >= 0) block.push(insn(JMP_JNE_K, 5, 0, -1, r.minor | 0));
    block.push(insn(ALU_MOV_K, 0, 0, 0, r.allow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0));
    block.forEach((ins, idx) => {
      if (ins.off === -1) ins.off = block.length - (idx + 1); // to the first instruction after the block
    });
    out.push(...block);
  }
  out.push(insn(ALU_MOV_K, 0, 0, 0, state.defaultAllow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0));
  return out;
}

/** Encode instructions as struct bpf_insn[] (little-endian, 8 bytes each). */
export function encodeProgram(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}

/** Load the program for `rules` (without attaching it); the caller closes the fd. */
export function loadDeviceProgram(rules: LinuxDeviceCgroup[]): number {
  const prog = encodeProgram(deviceProgram(emulateDevices(rules)));
  return bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, prog, 'Apache', 'mydocker_dev');
}

export function applyDevicesV2(dir: CgroupDir, rules: LinuxDeviceCgroup[]): void {
  const state = emulateDevices(rules); // rule errors first, before touching the kernel
  const prog = encodeProgram(deviceProgram(state));
  let dirFd: number | undefined;
  let progFd: number | undefined;
  try {
    dirFd = openSync(dir.path, constants.O_RDONLY | constants.O_DIRECTORY);
    const old = bpfProgQuery(dirFd, BPF_CGROUP_DEVICE, dir.path);
    progFd = bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, prog, 'Apache', 'mydocker_dev');
    bpfProgAttach(dirFd, progFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, dir.path);
    for (const id of old) {
      const fd = bpfProgGetFdById(id);
      try {
        bpfProgDetach(dirFd, fd, BPF_CGROUP_DEVICE, dir.path);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    throw new RuntimeError(`${F}: eBPF device filter on ${dir.path}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (progFd !== undefined) closeSync(progFd);
    if (dirFd !== undefined) closeSync(dirFd);
  }
}
