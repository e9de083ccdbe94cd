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
import { mkdirSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
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
    says: /process\.rlimits RLIMIT_NOFILE \(soft 1024, hard \d+\): setrlimit: Operation not permitted \(EPERM\)/,
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

// runc's order: credentials, capabilities and no_new_privs are applied before the init
// reports ready, so what the host cannot grant fails `create` — not `start`, with a stopped
// container and a line on the container's stderr (what docker 20.10 `run --privileged` showed).
describe('a capability the host cannot grant fails create', () => {
  const caps = (c: Config) => {
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_RESOURCE');
  };
  for (const rt of [RUNC, OURS]) {
    it(rt.name, { skip: (!haveSetpriv && 'setpriv (util-linux) is not installed') || (rt === RUNC && !haveRunc() && 'runc is not installed') }, withSandbox(withoutSysResource(rt), (sb) => {
      const config = baseConfig(['true']);
      caps(config);
      const id = sb.track(uniqueId('capcreate'));
      const r = sb.run(['create', '-b', sb.bundle(config), id], { detached: true });
      assert.notEqual(r.status, 0, 'create fails');
      assert.equal(sb.state(id), null, 'and leaves no container');
      if (rt === OURS) assert.match(r.stderr, /process\.capabilities\.permitted: CAP_SYS_RESOURCE not held by the runtime: capset: Operation not permitted/);
    }));
  }
});

// A full disk under the state root: create cannot save state.json. runc fails too (control);
// ours says which file and ENOSPC in one line, and leaves no container: no state dir, no init
// waiting on exec.fifo, no cgroup (withSandbox checks the processes and cgroups).
describe('a full state root fails create and leaves nothing', () => {
  for (const rt of [RUNC, OURS]) {
    it(rt.name, { skip: rt === RUNC && !haveRunc() && 'runc is not installed' }, withSandbox(rt, (sb) => {
      mkdirSync(sb.root, { recursive: true });
      assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', sb.root]).status, 0, 'mount a small tmpfs');
      try {
        spawnSync('dd', ['if=/dev/zero', `of=${join(sb.root, 'filler')}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' });
        assert.equal(statfsSync(sb.root).bavail, 0, 'the disk is full');
        const id = sb.track(uniqueId('full'));
        const r = sb.run(['create', '-b', sb.bundle(baseConfig(['true'])), id], { detached: true });
        assert.notEqual(r.status, 0, `create fails: ${r.stderr}`);
        if (rt === OURS) {
          const lines = r.stderr.trim().split('\n');
          assert.equal(lines.length, 1, r.stderr);
          assert.match(lines[0]!, new RegExp(`container ${id}: save its state: write \\S+/${id}/state\\.json\\S*: No space left on device \\(ENOSPC\\)`));
        }
        assert.deepEqual(readdirSync(sb.root), ['filler'], 'no state dir left');
        assert.equal(sb.run(['delete', '--force', id]).status === 0 || sb.state(id) === null, true);
      } finally {
        spawnSync('umount', ['-l', sb.root]);
      }
    }));
  }
});
