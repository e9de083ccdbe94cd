// Regenerates src/security/seccomp-syscalls.ts: syscall name → number for the architectures a
// seccomp filter of ours can name (x86_64, x32, i386, aarch64, arm).
//
// Source: the kernel's own uapi headers as Debian ships them (linux-libc-dev for x86,
// linux-libc-dev-{arm64,armhf}-cross for the arm ones; Debian 12 has 6.1), expanded by the C
// preprocessor so that aarch64's asm-generic #ifdefs and arm's __NR_SYSCALL_BASE come out as
// the kernel builds them. Syscalls added after 6.1 are listed below by hand from the 6.18
// syscall tables (arch/x86/entry/syscalls/syscall_{64,32}.tbl, arch/arm/tools/syscall.tbl,
// scripts/syscall.tbl): since 5.1 every architecture gives a new syscall the same number.
//
// Usage: node src/build/gen-seccomp-syscalls.mjs  (needs cpp; fetches the two cross packages with
// apt-get download into a temp dir when they are not installed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** Syscalls after Linux 6.1, with the ABIs that have them. */
const AFTER_6_1 = [
  [335, 'uretprobe', ['x86_64', 'x32']],
  [336, 'uprobe', ['x86_64', 'x32']],
  ...[
    'cachestat',
    'fchmodat2',
    'map_shadow_stack',
    'futex_wake',
    'futex_wait',
    'futex_requeue',
    'statmount',
    'listmount',
    'lsm_get_self_attr',
    'lsm_set_self_attr',
    'lsm_list_modules',
    'mseal',
    'setxattrat',
    'getxattrat',
    'listxattrat',
    'removexattrat',
    'open_tree_attr',
    'file_getattr',
    'file_setattr',
  ].map((name, i) => [451 + i, name, ['x86_64', 'x32', 'x86', 'aarch64', 'arm']]),
];

const X32_BIT = 0x40000000;

/** `#define NAME VALUE` lines of the preprocessed header → numbers (expressions evaluated). */
function macros(cppArgs, prefixes) {
  const defs = new Map();
  const out = execFileSync('cpp', ['-dM', '-nostdinc', ...cppArgs, '/dev/null'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^#define (\w+) (.*)$/.exec(line);
    if (m) defs.set(m[1], m[2]);
  }
  const value = (expr, depth = 0) => {
    if (depth > 10) return undefined;
    let unknown = false;
    const substituted = expr.replace(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*/g, (tok) => {
      if (/^\d/.test(tok)) return tok;
      const v = defs.has(tok) ? value(defs.get(tok), depth + 1) : undefined;
      if (v === undefined) unknown = true;
      return String(v);
    });
    if (unknown || !/^[\s0-9a-fA-FxX()+|<-]*$/.test(substituted)) return undefined;
    const n = Function(`"use strict"; return (${substituted});`)();
    return Number.isInteger(n) ? n : undefined;
  };
  const table = {};
  for (const [name] of defs) {
    const prefix = prefixes.find((p) => name.startsWith(p));
    if (!prefix) continue;
    const sys = name.slice(prefix.length);
    if (/^(syscalls|arch_specific_syscall|SYSCALL_BASE|OABI_SYSCALL_BASE|SYSCALL_MASK|BASE)$/.test(sys)) continue;
    const v = value(defs.get(name));
    if (v !== undefined) table[sys] = v;
  }
  return table;
}

function crossHeaders() {
  const have = (t) => existsSync(`/usr/${t}/include/asm/unistd.h`);
  if (have('aarch64-linux-gnu') && have('arm-linux-gnueabihf')) return { base: '/usr', cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'mydocker-syscalls-'));
  execFileSync('apt-get', ['download', 'linux-libc-dev-arm64-cross', 'linux-libc-dev-armhf-cross'], { cwd: dir, stdio: 'inherit' });
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', join(dir, deb), join(dir, 'x')]);
  return { base: join(dir, 'x/usr'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const x86inc = '/usr/include/x86_64-linux-gnu/asm';
const tables = {
  x86_64: macros(['-include', `${x86inc}/unistd_64.h`], ['__NR_']),
  x32: macros(['-D__X32_SYSCALL_BIT=0x40000000', '-include', `${x86inc}/unistd_x32.h`], ['__NR_']),
  x86: macros(['-include', `${x86inc}/unistd_32.h`], ['__NR_']),
};
const cross = crossHeaders();
try {
  tables.aarch64 = macros(['-I', `${cross.base}/aarch64-linux-gnu/include`, '-include', 'asm/unistd.h'], ['__NR_']);
  // EABI (what every arm distribution of the last 15 years uses); the ARM-private calls
  // (__ARM_NR_*: breakpoint, cacheflush, set_tls...) are named without the prefix, as libseccomp does.
  tables.arm = macros(['-D__ARM_EABI__', '-I', `${cross.base}/arm-linux-gnueabihf/include`, '-include', 'asm/unistd.h'], ['__NR_', '__ARM_NR_']);
} finally {
  cross.cleanup();
}
for (const [sys, n] of Object.entries(tables.x32)) {
  if ((n & X32_BIT) === 0) throw new Error(`x32 ${sys}: ${n} lacks __X32_SYSCALL_BIT`);
  tables.x32[sys] = n & ~X32_BIT;
}
for (const [nr, name, abis] of AFTER_6_1) {
  for (const abi of abis) {
    if (tables[abi][name] !== undefined && tables[abi][name] !== nr) throw new Error(`${abi} ${name}: ${tables[abi][name]} != ${nr}`);
    tables[abi][name] = nr;
  }
}

const ABIS = ['x86_64', 'x32', 'x86', 'aarch64', 'arm'];
const names = [...new Set(ABIS.flatMap((a) => Object.keys(tables[a])))].sort();
const rows = names.map((n) => `  ${/^[a-z_]\w*$/.test(n) ? n : JSON.stringify(n)}: [${ABIS.map((a) => tables[a][n] ?? -1).join(', ')}],`);
const text = `// GENERATED by src/build/gen-seccomp-syscalls.mjs from the kernel's uapi headers (Linux 6.1, as
// Debian ships them) plus the syscalls added up to 6.18. Do not edit by hand.
//
// name: [x86_64, x32, x86 (i386), aarch64, arm (EABI)]; -1 where the ABI has no such syscall.
// x32 numbers are given without __X32_SYSCALL_BIT (0x40000000), which a filter adds.

export const SYSCALL_ABIS = ${JSON.stringify(ABIS).replace(/,/g, ', ')} as const;

export const SYSCALL_TABLE: Readonly<Record<string, readonly [number, number, number, number, number]>> = {
${rows.join('\n')}
};
`;
writeFileSync(join(root, 'src/security/seccomp-syscalls.ts'), text);
console.log(`${names.length} syscalls: ${ABIS.map((a) => `${a} ${Object.keys(tables[a]).length}`).join(', ')}`);
