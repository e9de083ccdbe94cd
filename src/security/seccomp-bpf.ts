// Classic BPF for seccomp: an assembler with labels (long jumps get trampolines), and an
// interpreter with the kernel's semantics so that tests can run a compiled filter on synthetic
// `struct seccomp_data` without loading it.
//
// Classic BPF conditional jumps carry 8-bit forward offsets (jt/jf ≤ 255); only `ja` has a
// 32-bit one. The assembler lays out symbolic jumps and, where a target is farther than 255
// instructions, rewrites the jump to land on an inserted `ja` (a trampoline) right after it,
// repeating until every offset fits. Jumps are forward only, so the program is a DAG and the
// kernel's checker accepts it.

// Instruction classes and fields (linux/bpf_common.h, linux/filter.h).
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_K = 0x00;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** One assembled instruction (struct sock_filter). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A jump target: a label, or `null` for "the next instruction". */
export type Target = Label | null;

export class Label {
  private static next = 0;
  readonly id = Label.next++;
  constructor(readonly name = '') {}
}

type Item =
  | { kind: 'label'; label: Label }
  | { kind: 'stmt'; code: number; k: number }
  | { kind: 'jump'; code: number; k: number; jt: Target; jf: Target }
  | { kind: 'ja'; target: Label };

export type JumpOp = 'jeq' | 'jgt' | 'jge' | 'jset';
const JUMP_CODES: Record<JumpOp, number> = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET };

/** A program being built: statements, conditional jumps to labels, and label positions. */
export class Assembler {
  private items: Item[] = [];

  /** A = 32-bit word at `offset` of seccomp_data. */
  load(offset: number): this {
    this.items.push({ kind: 'stmt', code: BPF_LD | BPF_W | BPF_ABS, k: offset });
    return this;
  }

  /** A &= k. */
  and(k: number): this {
    this.items.push({ kind: 'stmt', code: BPF_ALU | BPF_AND | BPF_K, k: k >>> 0 });
    return this;
  }

  ret(k: number): this {
    this.items.push({ kind: 'stmt', code: BPF_RET | BPF_K, k: k >>> 0 });
    return this;
  }

  /** if (A op k) goto jt else goto jf; null means fall through to the next instruction. */
  jump(op: JumpOp, k: number, jt: Target, jf: Target): this {
    this.items.push({ kind: 'jump', code: BPF_JMP | JUMP_CODES[op] | BPF_K, k: k >>> 0, jt, jf });
    return this;
  }

  ja(target: Label): this {
    this.items.push({ kind: 'ja', target });
    return this;
  }

  label(label: Label): this {
    this.items.push({ kind: 'label', label });
    return this;
  }

  /** Lay out the program; long conditional jumps get trampolines. */
  assemble(): SockFilter[] {
    let items = this.items;
    for (;;) {
      const pos = positions(items);
      const relaxed: Item[] = [];
      let changed = false;
      let pc = 0;
      for (const it of items) {
        if (it.kind !== 'jump') {
          relaxed.push(it);
          if (it.kind !== 'label') pc++;
          continue;
        }
        const far = (t: Target) => t !== null && offsetTo(pos, t, pc) > 255;
        const farT = far(it.jt);
        const farF = far(it.jf);
        if (!farT && !farF) {
          relaxed.push(it);
          pc++;
          continue;
        }
        // jcond → jcond to trampolines placed right after it: [jt: ja T] [jf: ja F] next...
        changed = true;
        const tT = farT ? new Label('trampoline') : it.jt;
        const tF = farF ? new Label('trampoline') : it.jf;
        const after = new Label('after');
        relaxed.push({ ...it, jt: tT ?? after, jf: tF ?? after });
        if (farT) relaxed.push({ kind: 'label', label: tT! }, { kind: 'ja', target: it.jt! });
        if (farF) relaxed.push({ kind: 'label', label: tF! }, { kind: 'ja', target: it.jf! });
        relaxed.push({ kind: 'label', label: after });
        pc++;
      }
      items = relaxed;
      if (!changed) break;
    }
    const pos = positions(items);
    const out: SockFilter[] = [];
    for (const it of items) {
      const pc = out.length;
      if (it.kind === 'label') continue;
      if (it.kind === 'stmt') out.push({ code: it.code, jt: 0, jf: 0, k: it.k });
      else if (it.kind === 'ja') out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: offsetTo(pos, it.target, pc) });
      else out.push({ code: it.code, jt: it.jt ? offsetTo(pos, it.jt, pc) : 0, jf: it.jf ? offsetTo(pos, it.jf, pc) : 0, k: it.k });
    }
    return out;
  }
}

function positions(items: Item[]): Map<number, number> {
  const pos = new Map<number, number>();
  let pc = 0;
  for (const it of items) {
    if (it.kind === 'label') pos.set(it.label.id, pc);
    else pc++;
  }
  return pos;
}

function offsetTo(pos: Map<number, number>, target: Label, pc: number): number {
  const at = pos.get(target.id);
  if (at === undefined) throw new Error(`seccomp BPF: label ${target.name || target.id} is never placed`);
  const off = at - (pc + 1);
  if (off < 0) throw new Error(`seccomp BPF: backward jump to ${target.name || target.id}`);
  return off;
}

/** struct sock_filter[] → the bytes the kernel reads (host byte order: little-endian on our targets). */
export function encode(insns: SockFilter[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt16LE(i.code, n * 8);
    buf.writeUInt8(i.jt, n * 8 + 2);
    buf.writeUInt8(i.jf, n * 8 + 3);
    buf.writeUInt32LE(i.k >>> 0, n * 8 + 4);
  });
  return buf;
}

export function decode(buf: Buffer): SockFilter[] {
  if (buf.length % 8) throw new Error(`seccomp BPF: ${buf.length} bytes is not a whole number of instructions`);
  const out: SockFilter[] = [];
  for (let o = 0; o < buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}

/** struct seccomp_data, as the kernel hands it to a filter. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six arguments, as unsigned 64-bit values. */
  args?: bigint[];
}

/** The 64-byte seccomp_data a filter reads with BPF_LD|BPF_W|BPF_ABS (little-endian). */
export function seccompDataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(BigInt.asUintN(64, d.instructionPointer ?? 0n), 8);
  (d.args ?? []).slice(0, 6).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

/**
 * Run a seccomp filter the way the kernel does (only the instructions seccomp's checker admits
 * for the loads and jumps we emit, plus the ALU ops) and return its 32-bit verdict.
 */
export function runFilter(program: Buffer | SockFilter[], data: SeccompData): number {
  const insns = Buffer.isBuffer(program) ? decode(program) : program;
  const mem = seccompDataBytes(data);
  let A = 0;
  const X = 0; // the index register: never loaded by the filters we emit
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc]!;
    const cls = code & 0x07;
    switch (cls) {
      case BPF_LD: {
        if (code !== (BPF_LD | BPF_W | BPF_ABS)) throw new Error(`BPF interpreter: unsupported load 0x${code.toString(16)} at ${pc}`);
        if (k % 4 || k + 4 > 64) throw new Error(`BPF interpreter: bad seccomp_data offset ${k} at ${pc}`);
        A = mem.readUInt32LE(k);
        break;
      }
      case BPF_ALU: {
        const src = code & 0x08 ? X : k;
        switch (code & 0xf0) {
          case 0x00: A = (A + src) >>> 0; break;
          case 0x10: A = (A - src) >>> 0; break;
          case BPF_AND: A = (A & src) >>> 0; break;
          case 0x40: A = (A | src) >>> 0; break;
          case 0xa0: A = (A ^ src) >>> 0; break;
          case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case 0x70: A = src >= 32 ? 0 : A >>> src; break;
          default: throw new Error(`BPF interpreter: unsupported ALU op 0x${code.toString(16)} at ${pc}`);
        }
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) {
          pc += k;
          break;
        }
        const v = code & 0x08 ? X : k;
        let cond: boolean;
        if (op === BPF_JEQ) cond = A === v;
        else if (op === BPF_JGT) cond = A > v;
        else if (op === BPF_JGE) cond = A >= v;
        else if (op === BPF_JSET) cond = (A & v) !== 0;
        else throw new Error(`BPF interpreter: unsupported jump 0x${code.toString(16)} at ${pc}`);
        pc += cond ? jt : jf;
        break;
      }
      case BPF_RET:
        return (code & 0x18) === 0x10 ? A : k >>> 0; // BPF_A or BPF_K
      default:
        throw new Error(`BPF interpreter: unsupported instruction 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('BPF interpreter: fell off the end of the program');
}

/** A human-readable listing (for tests and debugging), one instruction a line. */
export function disassemble(program: Buffer | SockFilter[]): string {
  const insns = Buffer.isBuffer(program) ? decode(program) : program;
  const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
  return insns
    .map(({ code, jt, jf, k }, pc) => {
      let text: string;
      if (code === (BPF_LD | BPF_W | BPF_ABS)) text = `ld [${k}]`;
      else if (code === (BPF_ALU | BPF_AND | BPF_K)) text = `and #${hex(k)}`;
      else if (code === (BPF_RET | BPF_K)) text = `ret #${hex(k)}`;
      else if (code === (BPF_JMP | BPF_JA)) text = `ja ${pc + 1 + k}`;
      else if ((code & 0x07) === BPF_JMP) {
        const name = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' }[code & 0xf0] ?? `j?${code}`;
        text = `${name} #${hex(k)} jt ${pc + 1 + jt} jf ${pc + 1 + jf}`;
      } else text = `code ${hex(code)} jt ${jt} jf ${jf} k ${hex(k)}`;
      return `${String(pc).padStart(4)}: ${text}`;
    })
    .join('\n');
}
