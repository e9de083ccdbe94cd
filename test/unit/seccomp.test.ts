// The seccomp compiler, without root: the instruction stream of small filters, and the
// behaviour of compiled programs run through a BPF interpreter on synthetic seccomp_data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, UnsupportedError } from '../../src/errors.js';
import { compileSeccomp, planSeccomp, SECCOMP_FEATURES, syscallNumberFor } from '../../src/security/seccomp.js';
import { Assembler, decode, disassemble, Label, runFilter } from '../../src/security/seccomp-bpf.js';
import type { Seccomp } from '../../src/spec/generated/types.js';
import { features } from '../../src/spec/features.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const ARM = 0x40000028;
const X32_BIT = 0x40000000;

const ALLOW = 0x7fff0000;
const KILL_THREAD = 0;
const KILL_PROCESS = 0x80000000;
const TRAP = 0x00030000;
const LOG = 0x7ffc0000;
const ERRNO = (e: number) => 0x00050000 | e;
const TRACE = (e: number) => 0x7ff00000 | e;

const nr = (name: string, abi: Parameters<typeof syscallNumberFor>[1] = 'x86_64') => {
  const n = syscallNumberFor(name, abi);
  assert.ok(n !== undefined, `${name} on ${abi}`);
  return n;
};

/** Compile for x86_64 and run one syscall through the program. */
function verdict(s: Seccomp, call: { name?: string; nr?: number; arch?: number; abi?: 'x86_64' | 'x32' | 'x86' | 'aarch64' | 'arm'; args?: bigint[] }, host = 'x64'): number {
  const { program } = compileSeccomp(s, host);
  const abi = call.abi ?? (host === 'arm64' ? 'aarch64' : 'x86_64');
  const arch = call.arch ?? { x86_64: X86_64, x32: X86_64, x86: I386, aarch64: AARCH64, arm: ARM }[abi];
  return runFilter(program, { nr: call.nr ?? nr(call.name!, abi), arch, args: call.args ?? [] });
}

describe('seccomp: instruction stream', () => {
  it('compiles a one-rule deny filter to the expected program', () => {
    const { program, flags } = compileSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
      'x64',
    );
    assert.equal(flags, 0);
    assert.equal(
      disassemble(program),
      [
        '   0: ld [4]',
        '   1: jeq #0xc000003e jt 3 jf 2',
        '   2: ret #0x0', // an ABI the filter does not list: libseccomp's bad-arch action, KILL_THREAD
        '   3: ld [0]',
        '   4: jset #0x40000000 jt 5 jf 7',
        '   5: jeq #0xffffffff jt 7 jf 6', // x32 call in an x86_64-only filter
        '   6: ret #0x0',
        '   7: jeq #0x53 jt 9 jf 8',
        '   8: ret #0x7fff0000',
        '   9: ret #0x50001',
      ].join('\n'),
    );
  });

  it('compiles argument comparisons high half first', () => {
    const { program } = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] }],
      },
      'x64',
    );
    const text = disassemble(program);
    assert.match(text, /ld \[20\]\n.*jeq #0x0 jt \d+ jf \d+\n.*ld \[16\]\n.*jeq #0xffffffff/);
  });

  it('reports the SECCOMP_FILTER_FLAG_* bits, but not TSYNC (the filter is loaded on the thread that execs)', () => {
    const c = compileSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] },
      'x64',
    );
    assert.equal(c.flags, 2 | 4);
  });
});

describe('seccomp: actions', () => {
  const deny = (action: Seccomp['defaultAction'], errnoRet?: number): Seccomp => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action, ...(errnoRet !== undefined ? { errnoRet } : {}) }],
  });
  it('maps each action to its SECCOMP_RET_* value', () => {
    assert.equal(verdict(deny('SCMP_ACT_ERRNO'), { name: 'mkdir' }), ERRNO(1), 'ERRNO defaults to EPERM');
    assert.equal(verdict(deny('SCMP_ACT_ERRNO', 38), { name: 'mkdirat' }), ERRNO(38));
    assert.equal(verdict(deny('SCMP_ACT_TRACE'), { name: 'mkdir' }), TRACE(1), 'TRACE defaults to EPERM, as runc');
    assert.equal(verdict(deny('SCMP_ACT_TRACE', 7), { name: 'mkdir' }), TRACE(7));
    assert.equal(verdict(deny('SCMP_ACT_KILL'), { name: 'mkdir' }), KILL_THREAD);
    assert.equal(verdict(deny('SCMP_ACT_KILL_THREAD'), { name: 'mkdir' }), KILL_THREAD);
    assert.equal(verdict(deny('SCMP_ACT_KILL_PROCESS'), { name: 'mkdir' }), KILL_PROCESS);
    assert.equal(verdict(deny('SCMP_ACT_TRAP'), { name: 'mkdir' }), TRAP);
    assert.equal(verdict(deny('SCMP_ACT_LOG'), { name: 'mkdir' }), LOG);
    assert.equal(verdict(deny('SCMP_ACT_ERRNO'), { name: 'getpid' }), ALLOW);
  });

  it('uses defaultErrnoRet for the default action', () => {
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    assert.equal(verdict(s, { name: 'write' }), ERRNO(13));
    assert.equal(verdict(s, { name: 'read' }), ALLOW);
  });

  it('skips a rule whose action is the default one (as runc), so a later rule for the syscall applies', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    assert.equal(verdict(s, { name: 'personality', args: [8n] }), ERRNO(1));
    assert.equal(verdict(s, { name: 'personality', args: [0n] }), ALLOW);
  });

  it('gives an unconditional rule precedence over conditional ones, and the first unconditional one wins', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 2, args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }] },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 3 },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 4 },
      ],
    };
    assert.equal(verdict(s, { name: 'socket', args: [2n] }), ERRNO(3));
    assert.equal(verdict(s, { name: 'socket', args: [10n] }), ERRNO(3));
  });

  it('skips names the table does not know (runc skips what its libseccomp cannot resolve)', () => {
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    assert.equal(verdict(s, { name: 'mkdir' }), ERRNO(1));
    // mkdir does not exist on aarch64: only mkdirat is there, untouched.
    assert.equal(verdict(s, { name: 'mkdirat', abi: 'aarch64' }, 'arm64'), ALLOW);
  });
});

describe('seccomp: arguments', () => {
  const rule = (op: string, value: number | bigint, valueTwo?: number | bigint, index = 1): Seccomp => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      {
        names: ['socket'],
        action: 'SCMP_ACT_ERRNO',
        args: [{ index, value: value as number, op: op as 'SCMP_CMP_EQ', ...(valueTwo !== undefined ? { valueTwo: valueTwo as number } : {}) }],
      },
    ],
  });
  const matches = (s: Seccomp, v: bigint, index = 1, abi: 'x86_64' | 'x86' = 'x86_64') => {
    const args = [0n, 0n, 0n, 0n, 0n, 0n];
    args[index] = v;
    return verdict(s, { name: 'socket', abi, args }) === ERRNO(1);
  };
  // Values around the 32-bit boundary, where comparing two halves can go wrong.
  const samples = [0n, 1n, 2n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1fffffffen, 0xffffffff00000000n, 0xfffffffffffffffen, 0xffffffffffffffffn];
  const refs: Record<string, (a: bigint, v: bigint, v2: bigint) => boolean> = {
    SCMP_CMP_EQ: (a, v) => a === v,
    SCMP_CMP_NE: (a, v) => a !== v,
    SCMP_CMP_LT: (a, v) => a < v,
    SCMP_CMP_LE: (a, v) => a <= v,
    SCMP_CMP_GT: (a, v) => a > v,
    SCMP_CMP_GE: (a, v) => a >= v,
    // libseccomp's: the datum is masked too.
    SCMP_CMP_MASKED_EQ: (a, v, v2) => (a & v) === (v2 & v),
  };
  for (const [op, ref] of Object.entries(refs)) {
    it(`${op} compares all 64 bits on x86_64`, () => {
      for (const v of samples) {
        const v2 = op === 'SCMP_CMP_MASKED_EQ' ? (v & 0xf0000000fn) | 0x10n : 0n;
        const s = rule(op, v === 0xffffffffffffffffn ? 2 ** 64 : v > BigInt(Number.MAX_SAFE_INTEGER) ? v : Number(v), v2 > 0xffffn ? v2 : Number(v2));
        for (const a of samples) assert.equal(matches(s, a), ref(a, v, v2), `${op} arg=0x${a.toString(16)} value=0x${v.toString(16)}`);
      }
    });
  }

  it('compares only the low 32 bits on i386, where arguments are 32-bit', () => {
    const s = rule('SCMP_CMP_EQ', 0xffffffff);
    assert.equal(matches(s, 0xffffffffn, 1, 'x86'), false, 'socket on i386 needs SCMP_ARCH_X86 in the filter');
    const withX86 = { ...s, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] } as Seccomp;
    assert.equal(matches(withX86, 0xffffffffn, 1, 'x86'), true);
    assert.equal(matches(withX86, 0x1ffffffffn, 1, 'x86'), true);
    assert.equal(matches(withX86, 0xfffffffen, 1, 'x86'), false);
  });

  it('ANDs the args of one rule and ORs the rules of one syscall', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['socket'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 1, op: 'SCMP_CMP_EQ' },
          ],
        },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    assert.equal(verdict(s, { name: 'socket', args: [2n, 1n] }), ERRNO(1));
    assert.equal(verdict(s, { name: 'socket', args: [2n, 2n] }), ALLOW);
    assert.equal(verdict(s, { name: 'socket', args: [1n, 1n] }), ALLOW);
    assert.equal(verdict(s, { name: 'socket', args: [10n, 5n] }), ERRNO(1));
  });

  it('splits a rule comparing one argument twice into one rule per comparison, as runc does', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['socket'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 10, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    };
    assert.equal(verdict(s, { name: 'socket', args: [2n] }), ERRNO(1));
    assert.equal(verdict(s, { name: 'socket', args: [10n] }), ERRNO(1));
    assert.equal(verdict(s, { name: 'socket', args: [1n] }), ALLOW);
  });

  it('takes 18446744073709551615 (read by JSON.parse as 2^64) as all ones, and refuses other rounded values', () => {
    const s = JSON.parse('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}');
    assert.equal(verdict(s, { name: 'socket', args: [0xffffffffffffffffn] }), ERRNO(1));
    assert.equal(verdict(s, { name: 'socket', args: [0n] }), ALLOW);
    const bad = JSON.parse('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":12345678901234567890,"op":"SCMP_CMP_EQ"}]}]}');
    assert.throws(() => compileSeccomp(bad, 'x64'), /\/linux\/seccomp\/syscalls\/0\/args\/0\/value: .*rounded/);
  });
});

describe('seccomp: architectures', () => {
  const base: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'getpid'], action: 'SCMP_ACT_ERRNO' }] };

  it('kills a syscall from an ABI the filter does not include (libseccomp bad-arch action)', () => {
    assert.equal(verdict(base, { name: 'getpid', abi: 'x86' }), KILL_THREAD);
    assert.equal(verdict(base, { name: 'getpid', abi: 'x32' }), KILL_THREAD);
    assert.equal(verdict(base, { nr: 0xffffffff, arch: X86_64 }), ALLOW, 'nr -1 with the x32 bit goes to the rules, as in libseccomp');
    assert.equal(verdict(base, { name: 'getpid', arch: 0x12345678 }), KILL_THREAD);
  });

  it('matches i386 syscalls by their own numbers when SCMP_ARCH_X86 is listed', () => {
    const s = { ...base, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] } as Seccomp;
    assert.equal(nr('getpid', 'x86'), 20);
    assert.equal(verdict(s, { name: 'getpid', abi: 'x86' }), ERRNO(1));
    assert.equal(verdict(s, { nr: 39, arch: I386 }), ERRNO(1), 'i386 mkdir is 39 (x86_64 getpid)');
    assert.equal(verdict(s, { nr: 83, arch: I386 }), ALLOW, 'i386 83 is symlink, not mkdir');
    assert.equal(verdict(s, { name: 'getpid' }), ERRNO(1));
  });

  it('matches x32 syscalls (x86_64 audit arch, __X32_SYSCALL_BIT) when SCMP_ARCH_X32 is listed', () => {
    const s = { ...base, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] } as Seccomp;
    assert.equal(nr('getpid', 'x32'), (39 | X32_BIT) >>> 0);
    assert.equal(verdict(s, { name: 'getpid', abi: 'x32' }), ERRNO(1));
    assert.equal(verdict(s, { name: 'read', abi: 'x32' }), ALLOW);
    assert.equal(verdict(s, { name: 'getpid' }), ERRNO(1));
  });

  it('routes socketcall(2) and ipc(2) on i386 like the direct calls, as libseccomp does', () => {
    const s: Seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['socket', 'shmget'], action: 'SCMP_ACT_ERRNO' }],
    };
    assert.equal(verdict(s, { name: 'socket', abi: 'x86' }), ERRNO(1));
    assert.equal(verdict(s, { nr: 102, arch: I386, args: [1n] }), ERRNO(1), 'socketcall(SYS_SOCKET)');
    assert.equal(verdict(s, { nr: 102, arch: I386, args: [3n] }), ALLOW, 'socketcall(SYS_CONNECT)');
    assert.equal(verdict(s, { nr: 117, arch: I386, args: [23n] }), ERRNO(1), 'ipc(SHMGET)');
  });

  it('compiles for an aarch64 host, with arm as its compat ABI', () => {
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_ARM'], syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    assert.equal(verdict(s, { name: 'mkdirat', abi: 'aarch64' }, 'arm64'), ERRNO(1));
    assert.equal(verdict(s, { name: 'mkdirat', abi: 'arm' }, 'arm64'), ERRNO(1));
    assert.equal(verdict(s, { name: 'mkdirat', abi: 'x86_64' }, 'arm64'), KILL_THREAD);
  });
});

describe('seccomp: the -ENOSYS stub (runc patchbpf)', () => {
  const allowList: Seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: ['read', 'write', 'openat2'], action: 'SCMP_ACT_ALLOW' }],
  };
  it('answers ENOSYS above the highest syscall the profile names, EPERM (the default) below it', () => {
    assert.equal(verdict(allowList, { name: 'read' }), ALLOW);
    assert.equal(verdict(allowList, { name: 'getpid' }), ERRNO(1));
    assert.equal(verdict(allowList, { name: 'mount_setattr' }), ERRNO(38), 'mount_setattr (442) is above openat2 (437)');
    assert.equal(verdict(allowList, { name: 'mount_setattr', abi: 'x32' }), ERRNO(38));
    assert.equal(verdict(allowList, { name: 'getpid', abi: 'x32' }), ERRNO(1));
    assert.equal(verdict(allowList, { name: 'mount_setattr', abi: 'x86' }), ERRNO(38));
  });
  it('is left out for a permissive default and for architectures the config does not list', () => {
    assert.equal(verdict({ ...allowList, defaultAction: 'SCMP_ACT_LOG' }, { name: 'mount_setattr' }), LOG);
    const { architectures: _unused, ...unlisted } = allowList;
    assert.equal(verdict(unlisted, { name: 'mount_setattr' }), ERRNO(1));
  });
});

describe('seccomp: errors name the field', () => {
  const bad = (s: unknown, re: RegExp, cls: typeof ConfigError | typeof UnsupportedError = ConfigError) =>
    assert.throws(() => compileSeccomp(s as Seccomp, 'x64'), (e: Error) => e instanceof cls && re.test(e.message) && !e.message.includes('\n'));
  it('refuses malformed entries', () => {
    bad({ defaultAction: 'SCMP_ACT_NOPE' }, /^config\.json: \/linux\/seccomp\/defaultAction: unknown seccomp action "SCMP_ACT_NOPE"/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'ALLOW' }] }, /\/linux\/seccomp\/syscalls\/0\/action: unknown seccomp action/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PPC64LE'] }, /\/linux\/seccomp\/architectures\/0: seccomp architecture "SCMP_ARCH_PPC64LE" is not supported/, UnsupportedError);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }, /\/linux\/seccomp\/architectures\/0: /, UnsupportedError);
    const arg = (a: object) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [a] }] });
    bad(arg({ index: 6, value: 1, op: 'SCMP_CMP_EQ' }), /\/linux\/seccomp\/syscalls\/0\/args\/0\/index: must be a syscall argument number from 0 to 5 \(got 6\)/);
    bad(arg({ index: 0, value: 1, op: 'SCMP_CMP_EQUAL' }), /\/linux\/seccomp\/syscalls\/0\/args\/0\/op: unknown seccomp operator "SCMP_CMP_EQUAL"/);
    bad(arg({ index: 0, value: -1, op: 'SCMP_CMP_EQ' }), /\/args\/0\/value: must be an unsigned 64-bit integer/);
    bad(arg({ index: 0, op: 'SCMP_CMP_EQ' }), /\/args\/0\/value: is required/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, /\/syscalls\/0\/names: must be a non-empty array/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ERRNO' }] }, /\/syscalls\/0\/names\/1: /);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 5 }] }, /\/syscalls\/0\/errnoRet: only applies to SCMP_ACT_ERRNO/);
    bad({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /\/defaultErrnoRet: must be an errno number/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, /\/flags\/0: unknown seccomp flag/);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, /\/flags\/0: .*not supported/, UnsupportedError);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }, /\/linux\/seccomp\/listenerPath: /, UnsupportedError);
    bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, /\/syscalls\/0\/action: seccomp action SCMP_ACT_NOTIFY is not supported/, UnsupportedError);
  });
  it('refuses hosts it has no tables for', () => {
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'ppc64'), (e: Error) => e instanceof UnsupportedError && /\/linux\/seccomp: .*ppc64/.test(e.message));
  });
  it('refuses a filter over BPF_MAXINSNS, with a clear message', () => {
    // 700 syscalls × several argument rules each: well over 4096 instructions.
    const syscalls = ['read', 'write', 'openat', 'close', 'mmap', 'socket', 'ioctl', 'fcntl'].flatMap((name) =>
      Array.from({ length: 120 }, (_, v) => ({ names: [name], action: 'SCMP_ACT_ERRNO' as const, args: [{ index: 0, value: v, op: 'SCMP_CMP_EQ' as const }] })),
    );
    assert.throws(
      () => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }, 'x64'),
      (e: Error) => e instanceof UnsupportedError && /\/linux\/seccomp\/syscalls: the filter compiles to \d+ BPF instructions, more than the kernel's limit of 4096/.test(e.message),
    );
  });
});

describe('seccomp: long programs', () => {
  it('puts trampolines on jumps longer than 255 instructions', () => {
    const asm = new Assembler();
    const far = new Label('far');
    asm.load(0).jump('jeq', 7, far, null);
    for (let i = 0; i < 300; i++) asm.load(0);
    asm.ret(1).label(far).ret(2);
    const insns = asm.assemble();
    assert.ok(insns.every((i) => i.jt <= 255 && i.jf <= 255));
    assert.equal(runFilter(insns, { nr: 7, arch: 0 }), 2);
    assert.equal(runFilter(insns, { nr: 8, arch: 0 }), 1);
  });

  it('compiles a long profile with argument rules correctly (checked against a direct evaluation)', () => {
    // Many syscalls with argument rules, so that the dispatch jumps far.
    const names = Object.keys(SYSCALLS_SAMPLE);
    const syscalls: Seccomp['syscalls'] = names.map((name, i) => ({
      names: [name],
      action: i % 3 ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_ERRNO',
      ...(i % 2 ? { args: [{ index: i % 6, value: i, op: 'SCMP_CMP_GE' as const }, { index: (i + 1) % 6, value: 0xff, valueTwo: i & 0xff, op: 'SCMP_CMP_MASKED_EQ' as const }] } : {}),
    }));
    const s: Seccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls };
    const { program } = compileSeccomp(s, 'x64');
    assert.ok(program.length / 8 > 600, `a long program (${program.length / 8} instructions)`);
    assert.ok(decode(program).every((i) => i.jt <= 255 && i.jf <= 255));
    let rng = 12345;
    const rand = () => ((rng = (rng * 1103515245 + 12345) & 0x7fffffff), rng);
    for (let t = 0; t < 3000; t++) {
      const i = rand() % (names.length + 5);
      const name = names[i];
      const num = name ? nr(name) : 1000 + i;
      const args = Array.from({ length: 6 }, () => BigInt(rand() % 300));
      let expected = KILL_PROCESS;
      if (name) {
        const sc = syscalls[i]!;
        const act = sc.action === 'SCMP_ACT_ERRNO' ? ERRNO(1) : ALLOW;
        const ok = !sc.args || (args[i % 6]! >= BigInt(i) && (args[(i + 1) % 6]! & 0xffn) === BigInt(i & 0xff));
        expected = ok ? act : KILL_PROCESS;
      }
      assert.equal(runFilter(program, { nr: num, arch: X86_64, args }), expected >>> 0, `${name ?? num} ${args}`);
    }
  });
});

describe('seccomp: plan and features', () => {
  it('loads early without no_new_privs (needs CAP_SYS_ADMIN), late with it', () => {
    const s: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    const early = planSeccomp(s, false, 'x64')!;
    const late = planSeccomp(s, true, 'x64')!;
    assert.equal(early.early, true);
    assert.equal(late.early, false);
    assert.equal(Buffer.from(early.program, 'base64').length % 8, 0);
    assert.equal(planSeccomp(undefined, true, 'x64'), undefined);
  });

  it('reports in features exactly what it compiles', () => {
    const f = features({ apparmor: false, selinux: false }).linux!.seccomp!;
    assert.deepEqual([...(f.actions ?? [])].sort(), [...SECCOMP_FEATURES.actions].sort());
    assert.deepEqual([...(f.operators ?? [])].sort(), [...SECCOMP_FEATURES.operators].sort());
    assert.deepEqual([...(f.archs ?? [])].sort(), [...SECCOMP_FEATURES.archs].sort());
    for (const a of SECCOMP_FEATURES.actions) compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: a }] }, 'x64');
    for (const a of SECCOMP_FEATURES.archs) compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [a] }, a === 'SCMP_ARCH_AARCH64' || a === 'SCMP_ARCH_ARM' ? 'arm64' : 'x64');
  });
});

// A spread of x86_64 syscalls for the long-program test.
const SYSCALLS_SAMPLE = Object.fromEntries(
  [
    'read', 'write', 'open', 'close', 'stat', 'fstat', 'lstat', 'poll', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk',
    'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'ioctl', 'pread64', 'pwrite64', 'readv', 'writev', 'access', 'pipe',
    'select', 'sched_yield', 'mremap', 'msync', 'mincore', 'madvise', 'shmget', 'shmat', 'shmctl', 'dup', 'dup2', 'pause',
    'nanosleep', 'getitimer', 'alarm', 'setitimer', 'getpid', 'sendfile', 'socket', 'connect', 'accept', 'sendto', 'recvfrom',
    'sendmsg', 'recvmsg', 'shutdown', 'bind', 'listen', 'getsockname', 'getpeername', 'socketpair', 'setsockopt', 'getsockopt',
    'clone', 'fork', 'vfork', 'execve', 'exit', 'wait4', 'kill', 'uname', 'semget', 'semop', 'semctl', 'shmdt', 'msgget',
    'msgsnd', 'msgrcv', 'msgctl', 'fcntl', 'flock', 'fsync', 'fdatasync', 'truncate', 'ftruncate', 'getdents', 'getcwd',
    'chdir', 'fchdir', 'rename', 'mkdir', 'rmdir', 'creat', 'link', 'unlink', 'symlink', 'readlink', 'chmod', 'fchmod',
    'chown', 'fchown', 'lchown', 'umask', 'gettimeofday', 'getrlimit', 'getrusage', 'sysinfo', 'times', 'ptrace', 'getuid',
    'syslog', 'getgid', 'setuid', 'setgid', 'geteuid', 'getegid', 'setpgid', 'getppid', 'getpgrp', 'setsid', 'setreuid',
    'openat', 'mkdirat', 'newfstatat', 'unlinkat', 'renameat', 'linkat', 'symlinkat', 'readlinkat', 'fchmodat', 'faccessat',
    'pselect6', 'ppoll', 'unshare', 'splice', 'tee', 'sync_file_range', 'vmsplice', 'move_pages', 'utimensat', 'epoll_pwait',
    'signalfd', 'timerfd_create', 'eventfd', 'fallocate', 'accept4', 'eventfd2', 'epoll_create1', 'dup3', 'pipe2', 'prlimit64',
    'statx', 'rseq', 'pidfd_open', 'clone3', 'close_range', 'openat2', 'faccessat2', 'mount_setattr', 'mseal',
  ].map((n) => [n, true]),
);

