// Our seccomp compiler against libseccomp, the library runc uses: both compile the same random
// profiles (with runc's own preprocessing: rules equal to the default skipped, a rule that
// compares one argument twice split), both programs run through the interpreter on the same
// random seccomp_data, and the verdicts must agree. Also checks the syscall table against
// libseccomp's. Skipped where libseccomp.so.2 is not installed (it comes with runc).
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { koffi } from '../../src/kernel/ffi.js';
import { compileSeccomp, syscallNumberFor, type SyscallAbi } from '../../src/security/seccomp.js';
import { runFilter } from '../../src/security/seccomp-bpf.js';
import { SYSCALL_ABIS, SYSCALL_TABLE } from '../../src/security/seccomp-syscalls.js';
import type { Seccomp, SeccompArch } from '../../src/spec/generated/types.js';
import { SECCOMP_ACTIONS } from '../../src/spec/tables.js';

interface Lib {
  init(def: number): unknown;
  release(ctx: unknown): void;
  archAdd(ctx: unknown, arch: number): number;
  resolve(name: string): number;
  resolveArch(arch: number, name: string): number;
  ruleAdd(ctx: unknown, action: number, nr: number, n: number, conds: object[] | null): number;
  exportBpf(ctx: unknown, fd: number): number;
}

function loadLibseccomp(): Lib | undefined {
  try {
    const lib = koffi.load('libseccomp.so.2');
    koffi.struct('mdr_scmp_arg_cmp', { arg: 'uint', op: 'int', a: 'uint64', b: 'uint64' });
    return {
      init: lib.func('void *seccomp_init(uint32 def)'),
      release: lib.func('void seccomp_release(void *ctx)'),
      archAdd: lib.func('int seccomp_arch_add(void *ctx, uint32 arch)'),
      resolve: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
      resolveArch: lib.func('int seccomp_syscall_resolve_name_arch(uint32 arch, const char *name)'),
      ruleAdd: lib.func('int seccomp_rule_add_array(void *ctx, uint32 action, int sc, unsigned int n, const mdr_scmp_arg_cmp *arr)'),
      exportBpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    } as unknown as Lib;
  } catch {
    return undefined;
  }
}

const lib = process.arch === 'x64' ? loadLibseccomp() : undefined;
const skip = !lib && 'libseccomp.so.2 is not available (x86_64 with runc installed)';

// libseccomp's arch tokens (x32 has a token of its own: the audit arch minus the 64-bit flag).
const TOKENS: Record<SyscallAbi, number> = { x86_64: 0xc000003e, x32: 0x4000003e, x86: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 };
const SCMP_ARCH: Partial<Record<SeccompArch, SyscallAbi>> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_X86: 'x86',
};
const AUDIT: Record<SyscallAbi, number> = { x86_64: 0xc000003e, x32: 0xc000003e, x86: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 };
const OPS = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 } as const;

function actionValue(action: string, errnoRet?: number): number {
  const base = SECCOMP_ACTIONS[action as keyof typeof SECCOMP_ACTIONS];
  return action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE' ? (base | (errnoRet ?? 1)) >>> 0 : base >>> 0;
}

/** What runc 1.1 does with libseccomp for this profile (without its -ENOSYS stub). */
function libseccompProgram(s: Seccomp): Buffer | string {
  const def = actionValue(s.defaultAction, s.defaultErrnoRet);
  const ctx = lib!.init(def);
  const file = join(tmpdir(), `mydocker-seccomp-ref-${process.pid}.bpf`);
  try {
    for (const a of s.architectures ?? []) {
      const rc = lib!.archAdd(ctx, TOKENS[SCMP_ARCH[a]!]);
      if (rc !== 0 && rc !== -17) return `arch_add ${a}: ${rc}`;
    }
    for (const sc of s.syscalls ?? []) {
      const act = actionValue(sc.action, sc.errnoRet);
      if (act === def) continue;
      for (const name of sc.names) {
        const nr = lib!.resolve(name);
        if (nr === -1) continue;
        const conds = (sc.args ?? []).map((a) => ({ arg: a.index, op: OPS[a.op], a: BigInt(a.value), b: BigInt(a.valueTwo ?? 0) }));
        const dup = new Set(conds.map((c) => c.arg)).size !== conds.length;
        for (const set of dup ? conds.map((c) => [c]) : [conds]) {
          const rc = lib!.ruleAdd(ctx, act, nr, set.length, set.length ? set : null);
          if (rc !== 0) return `rule_add ${name}: ${rc}`;
        }
      }
    }
    const fd = openSync(file, 'w+');
    try {
      if (lib!.exportBpf(ctx, fd) !== 0) return 'export failed';
    } finally {
      closeSync(fd);
    }
    return readFileSync(file);
  } finally {
    lib!.release(ctx);
    rmSync(file, { force: true });
  }
}

let seed = 20240601;
const rand = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

const NAMES = [
  'read', 'write', 'openat', 'close', 'mmap', 'mkdir', 'mkdirat', 'personality', 'socket', 'connect', 'bind', 'clone',
  'ioctl', 'getpid', 'kill', 'prctl', 'setsockopt', 'shmget', 'msgsnd', 'fcntl', 'unshare', 'mount', 'ptrace', 'chmod',
  'getrandom', 'keyctl', 'no_such_syscall', 'statx', 'sendto', 'accept4',
];
const VALUES = [0n, 1n, 2n, 3n, 8n, 10n, 0x20000n, 0x7e020000n, 0xffffffffn, 0x100000000n, 0x100000002n, 0xffffffff00000000n, 0xffffffffffffffffn];
const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'] as const;

/** A random profile. Conditional rules of one syscall share one action (libseccomp orders overlapping ones its own way). */
function randomProfile(): Seccomp {
  const defaultAction = pick(ACTIONS);
  const archChoices: SeccompArch[][] = [[], ['SCMP_ARCH_X86_64'], ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], ['SCMP_ARCH_X32']];
  // With listed architectures and a strict default, runc adds its -ENOSYS stub, which libseccomp
  // knows nothing of: keep those profiles permissive here (the stub has its own tests).
  const architectures = pick(archChoices);
  const strict = !['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(defaultAction);
  const s: Seccomp = { defaultAction, ...(architectures.length && !strict ? { architectures } : {}), syscalls: [] };
  if (defaultAction === 'SCMP_ACT_ERRNO' && rand(2)) s.defaultErrnoRet = rand(100);
  const condAction = new Map<string, string>();
  for (let i = 0, n = 1 + rand(12); i < n; i++) {
    const names = [...new Set(Array.from({ length: 1 + rand(3) }, () => pick(NAMES)))];
    const conditional = rand(3) > 0;
    const action = pick(ACTIONS);
    const errnoRet = action === 'SCMP_ACT_ERRNO' && rand(2) ? rand(200) : undefined;
    if (conditional) {
      // one action (with its errno) per syscall for its conditional rules
      const key = `${action}/${errnoRet}`;
      if (names.some((nm) => condAction.has(nm) && condAction.get(nm) !== key)) continue;
      for (const nm of names) condAction.set(nm, key);
    }
    const rule: NonNullable<Seccomp['syscalls']>[number] = { names, action, ...(errnoRet !== undefined ? { errnoRet } : {}) };
    if (conditional) {
      rule.args = Array.from({ length: 1 + rand(3) }, () => {
        const op = pick(Object.keys(OPS)) as keyof typeof OPS;
        const v = pick(VALUES);
        return { index: rand(6), op, value: Number(v) > Number.MAX_SAFE_INTEGER ? (v as unknown as number) : Number(v), ...(op === 'SCMP_CMP_MASKED_EQ' ? { valueTwo: Number(pick(VALUES) & 0xffffn) } : {}) };
      });
    }
    s.syscalls!.push(rule);
  }
  return s;
}

/**
 * libseccomp 2.5.4 miscompiles two conditional rules of one syscall that both make range
 * comparisons (LT/LE/GT/GE) on the same argument: after the first rule's low-word test fails
 * it jumps into the second rule's high-word test without reloading the high word. Such profiles
 * are left out of the comparison (our result for them is checked by seccomp.test.ts).
 */
function libseccompMiscompiles(s: Seccomp): boolean {
  const ranges = new Map<string, number[]>();
  for (const sc of s.syscalls ?? []) {
    const args = sc.args ?? [];
    const dup = new Set(args.map((a) => a.index)).size !== args.length;
    const rules = dup ? args.map((a) => [a]) : [args];
    for (const name of sc.names) {
      for (const r of rules) {
        for (const a of r) if (/_(LT|LE|GT|GE)$/.test(a.op)) (ranges.get(`${name}/${a.index}`) ?? ranges.set(`${name}/${a.index}`, []).get(`${name}/${a.index}`)!).push(1);
      }
    }
  }
  return [...ranges.values()].some((v) => v.length > 1);
}

const hex = (_k: string, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

describe('seccomp against libseccomp', { skip }, () => {
  it('has the syscall numbers libseccomp has, where libseccomp knows the syscall', () => {
    for (const name of Object.keys(SYSCALL_TABLE)) {
      for (const abi of SYSCALL_ABIS) {
        const theirs = lib!.resolveArch(TOKENS[abi], name);
        const ours = syscallNumberFor(name, abi);
        if (theirs >= 0) assert.equal(ours, theirs, `${abi} ${name}`);
        // libseccomp gives negative "pseudo" numbers to i386's socketcall/ipc calls (we use the
        // direct syscalls and route socketcall/ipc separately) and to a few arm names; a
        // syscall newer than libseccomp 2.5.4 is unknown to it.
        else if (ours !== undefined) assert.ok(theirs < -1 || ours >= 451 || /probe$|map_shadow_stack/.test(name), `${abi} ${name}: ours ${ours}, libseccomp ${theirs}`);
      }
    }
  });

  it('gives the same verdicts on random profiles and calls', () => {
    let compared = 0;
    let profiles = 0;
    for (let p = 0; p < 300; p++) {
      const s = randomProfile();
      if (libseccompMiscompiles(s)) continue;
      const ref = libseccompProgram(s);
      if (typeof ref === 'string') continue; // a profile runc would refuse too
      // Values above 2^53 are given to compileSeccomp as bigints, as a precise reader would.
      const ours = compileSeccomp(s, 'x64').program;
      profiles++;
      const abis: SyscallAbi[] = ['x86_64', 'x32', 'x86', 'aarch64'];
      for (let t = 0; t < 60; t++) {
        const abi = pick(abis);
        const name = pick(NAMES);
        const nr = rand(8) === 0 ? rand(600) : syscallNumberFor(name, abi) ?? rand(600);
        const args = Array.from({ length: 6 }, () => (rand(3) ? pick(VALUES) : BigInt(rand(1 << 20))));
        const data = { nr: abi === 'x32' ? (nr | 0x40000000) >>> 0 : nr, arch: AUDIT[abi], args };
        if (abi === 'x86' && rand(4) === 0) Object.assign(data, { nr: pick([102, 117]), args: [BigInt(1 + rand(24)), ...args.slice(1)] });
        const a = runFilter(ours, data);
        const b = runFilter(ref, data);
        assert.equal(a.toString(16), b.toString(16), `profile ${JSON.stringify(s, hex)}\ncall ${JSON.stringify(data, hex)}`);
        compared++;
      }
    }
    assert.ok(profiles > 200 && compared > 10000, `${profiles} profiles, ${compared} calls compared`);
  });
});
