// linux.seccomp → a classic BPF program, in TypeScript (no libseccomp), with libseccomp's and
// runc's semantics where a config can tell the difference:
//
// - The filter checks seccomp_data.arch first. The host's native architecture is always in the
//   filter (libseccomp's seccomp_init adds it); `architectures` adds more. A syscall made under
//   an ABI the filter does not list gets libseccomp's default "bad arch" action, KILL_THREAD —
//   not defaultAction. On x86_64 the x32 ABI shares AUDIT_ARCH_X86_64 and is told apart by
//   __X32_SYSCALL_BIT in the syscall number: without SCMP_ARCH_X32 such a syscall is a bad-arch
//   kill (except nr == -1, which libseccomp lets through to the rules), with it the x32 numbers
//   are matched in the same section.
// - Names resolve per ABI through the table generated from the kernel's headers
//   (seccomp-syscalls.ts). A name the table does not know for an ABI is skipped, as runc skips
//   names its libseccomp cannot resolve (a syscall newer than the library or the kernel, or one
//   the ABI does not have, e.g. `mkdir` on aarch64). A malformed entry is an error naming the field.
// - On i386 the socket and SysV IPC calls also exist multiplexed through socketcall(2) and
//   ipc(2); like libseccomp, a rule on `socket` also matches socketcall(SYS_SOCKET, ...): arg0
//   must be the call number and the rule's other comparisons apply to socketcall's own
//   arguments at the same indexes (the real ones are in memory a filter cannot read).
// - A rule whose action equals defaultAction is skipped (runc does, libseccomp refuses it).
// - Several `args` in one rule are ANDed; several rules for one syscall are ORed. runc splits a
//   rule that compares the same argument twice into one rule per comparison (libseccomp refuses
//   it otherwise), and so do we. An unconditional rule beats every conditional rule for the
//   syscall and the first unconditional one wins (libseccomp's behaviour). Among conditional
//   rules with different actions that match the same call, the first in config order wins
//   (libseccomp orders them by its own decision tree instead, or refuses identical conditions).
// - 64-bit arguments are compared as two 32-bit halves, high half first, as libseccomp does;
//   on 32-bit ABIs (i386, arm, and x32 as libseccomp defines it) only the low half is compared.
// - runc's -ENOSYS stub: when defaultAction is not ALLOW/LOG/TRACE, a syscall numbered above the
//   highest syscall the config names (per ABI listed in `architectures`) fails with ENOSYS
//   instead of getting defaultAction, so that programs fall back from syscalls newer than the
//   profile (clone3 → clone) instead of failing on EPERM.
// - SCMP_ACT_KILL is KILL_THREAD; ERRNO and TRACE return errnoRet (default EPERM, as runc).
//
// compileSeccomp is pure: unit-tested by running the program through the interpreter in
// seccomp-bpf.ts. Loading is src/kernel/seccomp.ts; loadSeccompPlan below is what the init and
// the exec path call.
import { ConfigError, UnsupportedError } from '../errors.js';
import type { SeccompPlan } from '../process/init-config.js';
import type { Seccomp, SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from '../spec/generated/types.js';
import {
  AUDIT_ARCH,
  SECCOMP_ACTIONS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
  SECCOMP_SUPPORTED_ACTIONS,
  SECCOMP_SUPPORTED_ARCHS,
  SECCOMP_SUPPORTED_FLAGS,
  X32_SYSCALL_BIT,
} from '../spec/tables.js';
import { Assembler, BPF_MAXINSNS, encode, Label, type Target } from './seccomp-bpf.js';
import { SYSCALL_ABIS, SYSCALL_TABLE } from './seccomp-syscalls.js';

export type SyscallAbi = (typeof SYSCALL_ABIS)[number];

/** An architecture a filter can name: its audit arch and the ABI of its syscall table. */
interface ArchInfo {
  audit: number;
  abi: SyscallAbi;
}

const ARCHES: Partial<Record<SeccompArch, ArchInfo>> = {
  SCMP_ARCH_X86_64: { audit: AUDIT_ARCH.SCMP_ARCH_X86_64!, abi: 'x86_64' },
  SCMP_ARCH_X32: { audit: AUDIT_ARCH.SCMP_ARCH_X32!, abi: 'x32' },
  SCMP_ARCH_X86: { audit: AUDIT_ARCH.SCMP_ARCH_X86!, abi: 'x86' },
  SCMP_ARCH_AARCH64: { audit: AUDIT_ARCH.SCMP_ARCH_AARCH64!, abi: 'aarch64' },
  SCMP_ARCH_ARM: { audit: AUDIT_ARCH.SCMP_ARCH_ARM!, abi: 'arm' },
};

/** Node's process.arch → the native seccomp architecture. */
const NATIVE: Record<string, SeccompArch> = { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' };

// SECCOMP_RET_* (linux/seccomp.h).
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_DATA = 0x0000ffff;
const EPERM = 1;
const ENOSYS = 38;
/** libseccomp's default action for a syscall from an architecture the filter does not include. */
const BAD_ARCH_ACTION = SECCOMP_RET_KILL_THREAD;

/** seccomp(2) SECCOMP_FILTER_FLAG_NEW_LISTENER (returned for NOTIFY; never asked for in a config). */
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

// Offsets in struct seccomp_data.
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLo = (i: number) => 16 + 8 * i; // little-endian: the low word first
const argHi = (i: number) => 16 + 8 * i + 4;

/** socketcall(2) / ipc(2) call numbers of the i386 calls that also exist multiplexed (linux/net.h, linux/ipc.h). */
const X86_SOCKETCALL: Record<string, number> = {
  socket: 1, bind: 2, connect: 3, listen: 4, accept: 5, getsockname: 6, getpeername: 7, socketpair: 8,
  send: 9, recv: 10, sendto: 11, recvfrom: 12, shutdown: 13, setsockopt: 14, getsockopt: 15, sendmsg: 16,
  recvmsg: 17, accept4: 18, recvmmsg: 19, sendmmsg: 20,
};
const X86_IPC: Record<string, number> = {
  semop: 1, semget: 2, semctl: 3, semtimedop: 4, msgsnd: 11, msgrcv: 12, msgget: 13, msgctl: 14,
  shmat: 21, shmdt: 22, shmget: 23, shmctl: 24,
};
const X86_NR_SOCKETCALL = 102;
const X86_NR_IPC = 117;

/** The OCI name of the native architecture of `nodeArch` (process.arch), or undefined. */
export function nativeSeccompArch(nodeArch: string = process.arch): SeccompArch | undefined {
  return NATIVE[nodeArch];
}

/** The syscall number of `name` under an ABI (x32 numbers with __X32_SYSCALL_BIT), or undefined. */
export function syscallNumberFor(name: string, abi: SyscallAbi): number | undefined {
  const row = Object.hasOwn(SYSCALL_TABLE, name) ? SYSCALL_TABLE[name] : undefined;
  const n = row?.[SYSCALL_ABIS.indexOf(abi)];
  if (n === undefined || n < 0) return undefined;
  return abi === 'x32' ? (n | X32_SYSCALL_BIT) >>> 0 : n;
}

// --- What `features` reports ------------------------------------------------------------------

/**
 * What this module compiles and loads, for `features` (src/spec/features.ts). The lists are the
 * ones in tables.ts that validation also uses; the archs are exactly those with a syscall table.
 */
export const SECCOMP_FEATURES = {
  actions: [...SECCOMP_SUPPORTED_ACTIONS],
  operators: [...SECCOMP_OPERATORS],
  archs: (Object.keys(ARCHES) as SeccompArch[]).filter((a) => SECCOMP_SUPPORTED_ARCHS.includes(a)),
  knownFlags: Object.keys(SECCOMP_FLAGS) as SeccompFlag[],
  supportedFlags: [...SECCOMP_SUPPORTED_FLAGS],
};

// --- Compiling ----------------------------------------------------------------------------------

export interface CompiledSeccomp {
  /** struct sock_filter[], 8 bytes an instruction, little-endian. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2); 0 means prctl(PR_SET_SECCOMP) will do. */
  flags: number;
}

export interface CompileOptions {
  /** Document name for messages (default config.json). */
  label?: string;
  /** JSON pointer of the seccomp object (default /linux/seccomp). */
  at?: string;
}

interface Cond {
  index: number;
  op: SeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

interface Rule {
  action: number;
  conds: Cond[];
}

/** The rules of one syscall number within an ABI section. */
interface SyscallRules {
  unconditional?: number;
  conditional: Rule[];
}

/**
 * Compile linux.seccomp for a host of architecture `nodeArch` (process.arch: x64 or arm64).
 * Throws ConfigError/UnsupportedError naming the field for anything it cannot compile exactly.
 */
export function compileSeccomp(seccomp: Seccomp, nodeArch: string = process.arch, opts: CompileOptions = {}): CompiledSeccomp {
  const label = opts.label ?? 'config.json';
  const base = opts.at ?? '/linux/seccomp';
  const fail = (path: string, msg: string) => new ConfigError(`${label}: ${base}${path}: ${msg}`);
  const unsupported = (path: string, msg: string) => new UnsupportedError(`${label}: ${base}${path}: ${msg}`);
  if (!isObject(seccomp)) throw fail('', 'must be an object');

  const native = NATIVE[nodeArch];
  if (!native) throw unsupported('', `seccomp filters are not supported on ${nodeArch} (only x86_64 and aarch64)`);

  // Actions.
  const defaultErrno = errnoField(seccomp.defaultErrnoRet, '/defaultErrnoRet', fail);
  const defaultAction = action(seccomp.defaultAction, defaultErrno, '/defaultAction', fail, unsupported);
  if (seccomp.defaultErrnoRet !== undefined && seccomp.defaultAction !== 'SCMP_ACT_ERRNO' && seccomp.defaultAction !== 'SCMP_ACT_TRACE') {
    throw fail('/defaultErrnoRet', `only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE (defaultAction is ${seccomp.defaultAction})`);
  }
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') throw fail('/defaultAction', 'SCMP_ACT_NOTIFY cannot be the default action (runc refuses it too)');
  if (seccomp.listenerPath !== undefined) {
    throw unsupported('/listenerPath', 'seccomp notify listeners (SCMP_ACT_NOTIFY) are not supported yet');
  }

  // Architectures: the native one plus those listed; each gets a section keyed by audit arch.
  const listed = new Set<SeccompArch>();
  if (seccomp.architectures !== undefined && !Array.isArray(seccomp.architectures)) throw fail('/architectures', 'must be an array');
  (seccomp.architectures ?? []).forEach((a, i) => {
    if (typeof a !== 'string') throw fail(`/architectures/${i}`, 'must be a string');
    if (!ARCHES[a] || !SECCOMP_SUPPORTED_ARCHS.includes(a)) {
      throw unsupported(`/architectures/${i}`, `seccomp architecture ${JSON.stringify(a)} is not supported (supported: ${SECCOMP_FEATURES.archs.join(', ')})`);
    }
    listed.add(a);
  });
  const inFilter = new Set<SeccompArch>([native, ...listed]);

  // Flags.
  let flags = 0;
  if (seccomp.flags !== undefined && !Array.isArray(seccomp.flags)) throw fail('/flags', 'must be an array');
  (seccomp.flags ?? []).forEach((f, i) => {
    if (!Object.hasOwn(SECCOMP_FLAGS, f)) throw fail(`/flags/${i}`, `unknown seccomp flag ${JSON.stringify(f)} (known: ${Object.keys(SECCOMP_FLAGS).join(', ')})`);
    if (!SECCOMP_SUPPORTED_FLAGS.includes(f)) throw unsupported(`/flags/${i}`, `seccomp flag ${f} is not supported (it only applies to SCMP_ACT_NOTIFY listeners)`);
    // TSYNC would put the filter on every thread of the Node init too (libuv's pool, V8's
    // workers); the one thread that matters is the one that execve()s, which kills the others.
    // runc does not pass it either.
    if (f === 'SECCOMP_FILTER_FLAG_TSYNC') return;
    flags |= SECCOMP_FLAGS[f];
  });

  // Rules, resolved per ABI.
  if (seccomp.syscalls !== undefined && !Array.isArray(seccomp.syscalls)) throw fail('/syscalls', 'must be an array');
  const sections = new Map<number, Map<SyscallAbi, Map<number, SyscallRules>>>();
  const abis: SyscallAbi[] = [];
  for (const a of inFilter) {
    const info = ARCHES[a]!;
    abis.push(info.abi);
    if (!sections.has(info.audit)) sections.set(info.audit, new Map());
    sections.get(info.audit)!.set(info.abi, new Map());
  }
  const highest = new Map<SyscallAbi, number>(); // for the -ENOSYS stub
  (seccomp.syscalls ?? []).forEach((sc, i) => {
    const at = `/syscalls/${i}`;
    if (!isObject(sc)) throw fail(at, 'must be an object');
    if (!Array.isArray(sc.names) || sc.names.length === 0) throw fail(`${at}/names`, 'must be a non-empty array of syscall names');
    sc.names.forEach((n, j) => {
      if (typeof n !== 'string' || n === '') throw fail(`${at}/names/${j}`, 'must be a non-empty syscall name');
    });
    const errnoRet = errnoField(sc.errnoRet, `${at}/errnoRet`, fail);
    const act = action(sc.action, errnoRet, `${at}/action`, fail, unsupported);
    if (sc.errnoRet !== undefined && sc.action !== 'SCMP_ACT_ERRNO' && sc.action !== 'SCMP_ACT_TRACE') {
      throw fail(`${at}/errnoRet`, `only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE (action is ${sc.action})`);
    }
    if (sc.args !== undefined && !Array.isArray(sc.args)) throw fail(`${at}/args`, 'must be an array');
    const conds = (sc.args ?? []).map((arg, k) => condition(arg, `${at}/args/${k}`, fail));

    for (const name of sc.names) {
      for (const abi of abis) {
        const nr = syscallNumberFor(name, abi);
        if (nr !== undefined) highest.set(abi, Math.max(highest.get(abi) ?? 0, nr));
      }
    }
    if (act === defaultAction) return; // redundant with the default (runc skips it)

    // runc: a rule comparing one argument twice becomes one rule per comparison.
    const indexes = conds.map((c) => c.index);
    const rules: Cond[][] = new Set(indexes).size === indexes.length ? [conds] : conds.map((c) => [c]);
    for (const name of sc.names) {
      for (const a of inFilter) {
        const info = ARCHES[a]!;
        const table = sections.get(info.audit)!.get(info.abi)!;
        const nr = syscallNumberFor(name, info.abi);
        if (nr !== undefined) for (const c of rules) addRule(table, nr, { action: act, conds: c });
        if (info.abi === 'x86') {
          const multiplexed =
            X86_SOCKETCALL[name] !== undefined ? [X86_NR_SOCKETCALL, X86_SOCKETCALL[name]] : X86_IPC[name] !== undefined ? [X86_NR_IPC, X86_IPC[name]] : undefined;
          if (multiplexed) {
            const [mnr, call] = multiplexed as [number, number];
            const callIs: Cond = { index: 0, op: 'SCMP_CMP_EQ', value: BigInt(call), valueTwo: 0n };
            for (const c of rules) addRule(table, mnr, { action: act, conds: [callIs, ...c.filter((x) => x.index !== 0)] });
          }
        }
      }
    }
  });

  // The -ENOSYS stub, as runc's patchbpf: only for listed architectures, only when the default
  // is not an "allow" action.
  const stub = new Map<SyscallAbi, number>();
  const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(seccomp.defaultAction);
  if (!permissive) {
    for (const a of listed) {
      const abi = ARCHES[a]!.abi;
      const max = highest.get(abi);
      if (max) stub.set(abi, max);
    }
  }

  const asm = new Assembler();
  asm.load(OFF_ARCH);
  const sectionLabels = [...sections.keys()].map((audit) => [audit, new Label(`arch 0x${audit.toString(16)}`)] as const);
  for (const [audit, l] of sectionLabels) asm.jump('jeq', audit, l, null);
  asm.ret(BAD_ARCH_ACTION);
  for (const [audit, l] of sectionLabels) {
    asm.label(l);
    emitSection(asm, sections.get(audit)!, stub, defaultAction);
  }

  const insns = asm.assemble();
  if (insns.length > BPF_MAXINSNS) {
    throw unsupported(
      '/syscalls',
      `the filter compiles to ${insns.length} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS} (BPF_MAXINSNS); merge rules with the same action or drop argument conditions`,
    );
  }
  return { program: encode(insns), flags };
}

function addRule(table: Map<number, SyscallRules>, nr: number, rule: Rule): void {
  let rules = table.get(nr);
  if (!rules) table.set(nr, (rules = { conditional: [] }));
  if (rule.conds.length === 0) rules.unconditional ??= rule.action;
  else rules.conditional.push(rule);
}

/**
 * One audit arch's section: A = nr, the ABI checks, the -ENOSYS stub, the dispatch on the
 * syscall number, then the argument checks of syscalls that have conditional rules.
 * `ret` instructions are repeated where they are needed rather than shared, which keeps jumps
 * short (a shared return at the end would need a trampoline per jump once the program is long).
 */
function emitSection(
  asm: Assembler,
  abis: Map<SyscallAbi, Map<number, SyscallRules>>,
  stub: Map<SyscallAbi, number>,
  defaultAction: number,
): void {
  const enosys = new Label('enosys');
  let usesEnosys = false;
  const dispatch = new Label('dispatch');
  const enosysIfAbove = (max: number | undefined, otherwise: Target) => {
    if (max === undefined) {
      if (otherwise) asm.ja(otherwise);
      return;
    }
    usesEnosys = true;
    asm.jump('jgt', max, enosys, otherwise);
  };
  asm.load(OFF_NR);
  if (abis.has('x86_64')) {
    const isX32 = new Label('x32');
    const max = stub.get('x86_64');
    asm.jump('jset', X32_SYSCALL_BIT, isX32, max === undefined ? dispatch : null);
    if (max !== undefined) enosysIfAbove(max, dispatch);
    asm.label(isX32);
    if (!abis.has('x32')) {
      // libseccomp: an x32 call in an x86_64-only filter is a bad arch, except nr == -1.
      asm.jump('jeq', 0xffffffff, dispatch, null).ret(BAD_ARCH_ACTION);
    } else enosysIfAbove(stub.get('x32'), dispatch);
  } else {
    const [abi] = abis.keys();
    enosysIfAbove(stub.get(abi!), dispatch);
  }
  if (usesEnosys) asm.label(enosys).ret(SECCOMP_RET_ERRNO | ENOSYS);
  asm.label(dispatch);

  // All ABIs of the section share one number space (x32 numbers carry their bit).
  const merged = new Map<number, { rules: SyscallRules; bits: 32 | 64 }>();
  for (const [abi, table] of abis) {
    // x32 passes 64-bit registers, but libseccomp declares it a 32-bit ABI and compares only
    // the low halves of its arguments; so do we.
    const bits = abi === 'x86' || abi === 'arm' || abi === 'x32' ? 32 : 64;
    for (const [nr, rules] of table) merged.set(nr, { rules, bits });
  }
  const nrs = [...merged.keys()].sort((a, b) => a - b);
  const blocks = new Map<number, Label>();
  for (const nr of nrs) if (merged.get(nr)!.rules.unconditional === undefined) blocks.set(nr, new Label(`nr ${nr}`));
  emitDispatch(asm, nrs, (nr) => merged.get(nr)!.rules.unconditional ?? blocks.get(nr)!, defaultAction);
  for (const [nr, label] of blocks) {
    const { rules, bits } = merged.get(nr)!;
    asm.label(label);
    for (const rule of rules.conditional) {
      const next = new Label('next rule');
      for (const c of rule.conds) emitCondition(asm, c, bits, next);
      asm.ret(rule.action);
      asm.label(next);
    }
    asm.ret(defaultAction);
  }
}

/**
 * Branch on the syscall number (in A): a binary search down to runs of a few equality tests,
 * so a long allow-list costs a handful of comparisons per syscall rather than hundreds. Each
 * run ends with the returns its tests need (an action number) or jumps to a syscall's
 * argument checks (a label).
 */
function emitDispatch(asm: Assembler, nrs: number[], target: (nr: number) => number | Label, defaultAction: number): void {
  const LINEAR = 4;
  const emit = (lo: number, hi: number) => {
    if (hi - lo <= LINEAR) {
      const local = new Map<number, Label>();
      for (let i = lo; i < hi; i++) {
        const t = target(nrs[i]!);
        let l: Label;
        if (t instanceof Label) l = t;
        else {
          if (!local.has(t)) local.set(t, new Label(`ret 0x${t.toString(16)}`));
          l = local.get(t)!;
        }
        asm.jump('jeq', nrs[i]!, l, null);
      }
      asm.ret(defaultAction);
      for (const [action, l] of local) asm.label(l).ret(action);
      return;
    }
    const mid = (lo + hi) >> 1;
    const right = new Label('nr >= pivot');
    asm.jump('jge', nrs[mid]!, right, null);
    emit(lo, mid);
    asm.label(right);
    emit(mid, hi);
  };
  emit(0, nrs.length);
}

/** Fall through when the argument condition holds, jump to `fail` when it does not. */
function emitCondition(asm: Assembler, c: Cond, bits: 32 | 64, fail: Label): void {
  const lo = Number(c.value & 0xffffffffn);
  const hi = Number(c.value >> 32n);
  const lo2 = Number(c.valueTwo & 0xffffffffn);
  const hi2 = Number(c.valueTwo >> 32n);
  const pass = new Label('pass');
  const wide = bits === 64;
  switch (c.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      // EQ: hi == v.hi && lo == v.lo. NE is its negation.
      const [onTrue, onFalse]: [Target, Label] = c.op === 'SCMP_CMP_EQ' ? [null, fail] : [fail, pass];
      if (wide) asm.load(argHi(c.index)).jump('jeq', hi, null, onFalse);
      asm.load(argLo(c.index)).jump('jeq', lo, onTrue, onFalse);
      break;
    }
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == (valueTwo & value), half by half: libseccomp masks the datum too, so
      // bits of valueTwo outside the mask never make the rule unmatchable, and a half whose
      // mask is 0 always matches.
      if (wide && hi !== 0) asm.load(argHi(c.index)).and(hi).jump('jeq', (hi2 & hi) >>> 0, null, fail);
      if (lo !== 0) asm.load(argLo(c.index)).and(lo).jump('jeq', (lo2 & lo) >>> 0, null, fail);
      break;
    }
    default: {
      // GT / GE directly; LE = !GT, LT = !GE.
      const strict = c.op === 'SCMP_CMP_GT' || c.op === 'SCMP_CMP_LE';
      const negate = c.op === 'SCMP_CMP_LE' || c.op === 'SCMP_CMP_LT';
      const yes: Target = negate ? fail : pass;
      const no: Target = negate ? pass : fail;
      if (wide) {
        const eqHi = new Label('hi equal');
        asm.load(argHi(c.index)).jump('jgt', hi, yes, eqHi);
        asm.label(eqHi).jump('jeq', hi, null, no);
      }
      asm.load(argLo(c.index)).jump(strict ? 'jgt' : 'jge', lo, yes, no);
      break;
    }
  }
  asm.label(pass);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Fail = (path: string, msg: string) => Error;

function errnoField(v: unknown, path: string, fail: Fail): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > SECCOMP_RET_DATA) {
    throw fail(path, `must be an errno number from 0 to ${SECCOMP_RET_DATA} (got ${JSON.stringify(v)})`);
  }
  return v;
}

function action(a: unknown, errnoRet: number | undefined, path: string, fail: Fail, unsupported: Fail): number {
  if (typeof a !== 'string' || !Object.hasOwn(SECCOMP_ACTIONS, a)) {
    throw fail(path, `unknown seccomp action ${JSON.stringify(a)} (known: ${Object.keys(SECCOMP_ACTIONS).join(', ')})`);
  }
  const name = a as SeccompAction;
  if (!SECCOMP_SUPPORTED_ACTIONS.includes(name)) throw unsupported(path, `seccomp action ${name} is not supported`);
  const base = SECCOMP_ACTIONS[name];
  if (name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
  return base >>> 0;
}

const U64_MAX = (1n << 64n) - 1n;

/** A spec Uint64 (a JS number, or a bigint from a caller that kept precision) → bigint. */
function u64(v: unknown, path: string, fail: Fail): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw fail(path, `must be an unsigned 64-bit integer (got ${v})`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fail(path, `must be an unsigned 64-bit integer (got ${JSON.stringify(v)})`);
  // JSON.parse rounds 18446744073709551615 (all ones, the usual spelling of -1) up to 2^64.
  if (v === 2 ** 64) return U64_MAX;
  if (v > Number.MAX_SAFE_INTEGER) {
    throw fail(path, `${v} is above 2^53 and was rounded when the JSON was read; the filter would not compare what the config says`);
  }
  return BigInt(v);
}

function condition(arg: unknown, at: string, fail: Fail): Cond {
  if (!isObject(arg)) throw fail(at, 'must be an object with index, value and op');
  const index = arg.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw fail(`${at}/index`, `must be a syscall argument number from 0 to 5 (got ${JSON.stringify(index)})`);
  }
  const op = arg.op;
  if (typeof op !== 'string' || !SECCOMP_OPERATORS.includes(op as SeccompOperator)) {
    throw fail(`${at}/op`, `unknown seccomp operator ${JSON.stringify(op)} (known: ${SECCOMP_OPERATORS.join(', ')})`);
  }
  if (arg.value === undefined) throw fail(`${at}/value`, 'is required');
  const value = u64(arg.value, `${at}/value`, fail);
  const valueTwo = arg.valueTwo === undefined ? 0n : u64(arg.valueTwo, `${at}/valueTwo`, fail);
  return { index, op: op as SeccompOperator, value, valueTwo };
}

// --- The plan -------------------------------------------------------------------------------------

/**
 * linux.seccomp → the SeccompPlan the init (or exec) loads with applySeccomp: compiled here, at
 * create time, so a bad profile fails `create` before anything exists. `early` follows runc:
 * without no_new_privs the filter goes in while the process still has CAP_SYS_ADMIN.
 */
export function planSeccomp(
  seccomp: Seccomp | undefined,
  noNewPrivileges: boolean,
  nodeArch: string = process.arch,
  opts: CompileOptions = {},
): SeccompPlan | undefined {
  if (seccomp === undefined) return undefined;
  const { program, flags } = compileSeccomp(seccomp, nodeArch, opts);
  return { program: program.toString('base64'), flags, early: !noNewPrivileges };
}
