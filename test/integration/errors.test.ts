// Every error names what failed: the config field (and its value), the call and the path,
// errno — never Node's bare "EACCES: permission denied, write". Each case provokes a real
// failure on the kernel; runc runs it first as the control (it must fail too, so the failure
// is the host's answer, not our invention), then ours must fail with one line naming the field.
//
// Capabilities the host could grant are taken away with setpriv(1) (util-linux): the runtime
// runs without CAP_SYS_RESOURCE in its bounding set, as root does in this sandbox and as the
// CRI plugin's pause container (oomScoreAdj -998) meets on such hosts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseConfig, haveRunc, OURS, RUNC, Sandbox, uniqueId, withSandbox, type Runtime } from '../helpers/runtime.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Config = any;

const haveSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const withoutSysResource = (rt: Runtime): Runtime => ({ ...rt, argv: ['setpriv', '--bounding-set', '-sys_resource', '--', ...rt.argv] });

/** Our hard RLIMIT_NOFILE: asking for one more needs CAP_SYS_RESOURCE. */
function hardNofile(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  return Number(line.trim().split(/\s+/)[4]);
}

interface Case {
  name: string;
  /** The runtime runs without CAP_SYS_RESOURCE. */
  noSysResource?: boolean;
  edit: (c: Config, sb: Sandbox) => void;
  /** Extra arguments for `run` (before the id). */
  args?: (sb: Sandbox) => string[];
  /** What our one line must say. */
  says: RegExp;
}

const cases: Case[] = [
  {
    name: 'process.oomScoreAdj below what the runtime may set',
    noSysResource: true,
    edit: (c) => (c.process.oomScoreAdj = -998),
    says: /process\.oomScoreAdj -998: write \/proc\/self\/oom_score_adj: Permission denied \(EACCES\)/,
  },
  {
    name: 'process.rlimits above the hard limit',
    noSysResource: true,
    edit: (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: hardNofile() + 1 }]),
    says: /process\.rlimits RLIMIT_NOFILE \(soft 1024, hard \d+\): setrlimit RLIMIT_NOFILE: Operation not permitted \(EPERM\)/,
  },
  {
    name: 'process.capabilities the runtime does not hold',
    noSysResource: true,
    edit: (c) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_RESOURCE');
    },
    says: /process\.capabilities\.permitted: CAP_SYS_RESOURCE not held by the runtime: capset: Operation not permitted \(EPERM\)/,
  },
  {
    name: 'linux.sysctl that the kernel does not have',
    edit: (c) => (c.linux.sysctl = { 'net.ipv4.mydocker_nonexistent': '1' }),
    says: /linux\.sysctl net\.ipv4\.mydocker_nonexistent="1": open \/proc\/sys\/net\/ipv4\/mydocker_nonexistent: No such file or directory \(ENOENT\)/,
  },
  {
    name: 'process.cwd that is a file',
    edit: (c) => (c.process.cwd = '/etc/passwd'),
    says: /process\.cwd \/etc\/passwd: chdir \/etc\/passwd: Not a directory \(ENOTDIR\)/,
  },
  {
    name: 'a mount the kernel refuses',
    edit: (c) => c.mounts.push({ destination: '/refused', type: 'tmpfs', source: 'tmpfs', options: ['size=not-a-size'] }),
    says: /mounts\[8\] tmpfs on \/refused: mount tmpfs on \S+: Invalid argument \(EINVAL\)/,
  },
  {
    name: '--pid-file in a directory that does not exist',
    edit: () => {},
    args: (sb) => ['--pid-file', join(sb.dir, 'no-such-dir', 'init.pid')],
    says: /--pid-file \S+\/no-such-dir\/init\.pid: open \S+\/no-such-dir\/init\.pid\.\d+\.tmp: No such file or directory \(ENOENT\)/,
  },
];

function attempt(c: Case, sb: Sandbox) {
  const config = baseConfig(['true']);
  c.edit(config, sb);
  const id = sb.track(uniqueId('err'));
  return sb.run(['run', ...(c.args?.(sb) ?? []), '-b', sb.bundle(config), id]);
}

describe('every error names what failed', () => {
  for (const c of cases) {
    const skip = c.noSysResource && !haveSetpriv ? 'setpriv (util-linux) is not installed' : false;
    describe(c.name, () => {
      const runc = c.noSysResource ? withoutSysResource(RUNC) : RUNC;
      const ours = c.noSysResource ? withoutSysResource(OURS) : OURS;
      it('runc fails too (control)', { skip: skip || (!haveRunc() && 'runc is not installed') }, withSandbox(runc, (sb) => {
        const r = attempt(c, sb);
        assert.notEqual(r.status, 0, `runc accepted it: ${r.stdout}`);
      }));
      it('ours names the field, the call, the path and errno, in one line', { skip }, withSandbox(ours, (sb) => {
        const r = attempt(c, sb);
        assert.notEqual(r.status, 0);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, c.says);
      }));
    });
  }

  it('exec: process.oomScoreAdj below what the runtime may set', { skip: !haveSetpriv && 'setpriv (util-linux) is not installed' }, withSandbox(withoutSysResource(OURS), (sb) => {
    const id = sb.track(uniqueId('errexec'));
    assert.equal(sb.run(['run', '-d', '-b', sb.bundle(baseConfig(['sleep', '1000'])), id], { detached: true }).status, 0);
    const processJson = join(sb.dir, 'process.json');
    writeFileSync(processJson, JSON.stringify({ ...baseConfig(['true']).process, oomScoreAdj: -998 }));
    const r = sb.run(['exec', '--process', processJson, id]);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /process\.oomScoreAdj -998: write \/proc\/self\/oom_score_adj: Permission denied \(EACCES\)/);
  }));
});
