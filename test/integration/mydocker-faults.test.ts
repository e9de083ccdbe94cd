// mydocker killed with -9 at each step of run, rm, commit and network create/rm, and corrupt
// state: the next command or `rm -f` finishes or undoes what was half done, nothing is left on
// the host (withMydocker checks mounts, monitors, cgroups, runtime state and networking: veths,
// firewall rules, addresses, host ports, hook state), and user data survives.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { networkLeaks, rootNetworks, waitFor, withMydocker } from '../helpers/mydocker.js';

const RUN_POINTS = ['create:name-reserved', 'create:record-written', 'create:rootfs-made', 'start:mounted', 'start:network-allocated', 'start:monitor-created', 'start:started'];

/** A TCP port nothing listens on (the kernel's pick), and whether one can be listened on. */
function listenable(port = 0): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(0));
    s.listen(port, '0.0.0.0', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('mydocker: kill -9 during run, then rm -f', () => {
  for (const point of RUN_POINTS) {
    for (const detach of [false, true]) {
      it(`${point}${detach ? ' (-d)' : ''}`, withMydocker(async (md) => {
        const host = join(md.dir, 'userdata');
        mkdirSync(host);
        writeFileSync(join(host, 'precious'), 'keep me');
        const hp = await listenable();
        // On the default bridge with a published port: an address, a held port, maybe a veth and rules.
        const r = md.run(['run', ...(detach ? ['-d'] : []), '--name', 'victim', '-p', `${hp}:80`, '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo $$ > /data/pid; sleep 60'], {
          env: { MYDOCKER_TEST_CRASH_AT: point },
        });
        assert.equal(r.status, null, `killed at ${point}: ${r.stderr}`);
        // Whatever state it is in, it is either visible and removable, or gone.
        const ids = md.ok(['ps', '-aq', '--no-trunc']).trim().split('\n').filter(Boolean);
        for (const id of ids) md.ok(['rm', '-f', id]);
        for (const id of md.ids()) md.ok(['rm', '-f', id]);
        assert.deepEqual(networkLeaks(md.root), [], 'nothing of its network is left');
        // The name and the port are free again (a stale reservation is reclaimed).
        assert.equal(await listenable(hp), hp, 'its host port is free again');
        md.ok(['run', '--rm', '--name', 'victim', '-p', `${hp}:80`, 'busybox', 'true']);
        assert.equal(readFileSync(join(host, 'precious'), 'utf8'), 'keep me', 'the bind-mounted host dir survives');
        assert.equal(md.ok(['ps', '-aq']), '');
      }));
    }
  }

  it('start after a run killed between create and start: the old monitor goes, the new run is clean', withMydocker(async (md) => {
    const r = md.run(['run', '-d', '--name', 'half', 'busybox', 'sh', '-c', 'echo run; sleep 60'], { env: { MYDOCKER_TEST_CRASH_AT: 'start:monitor-created' } });
    assert.equal(r.status, null);
    assert.equal(md.state('half').Status, 'created');
    md.ok(['start', 'half']);
    assert.equal(md.state('half').Status, 'running');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(md.state('half').Status, 'running', 'no stale exit or cleanup from the first monitor');
    md.ok(['stop', '-t', '0', 'half']);
    assert.equal(md.state('half').ExitCode, 137);
  }));

  it('a foreground run killed while its container runs: the container lives on, rm -f removes it', withMydocker(async (md) => {
    const child = md.spawn(['run', '--name', 'orphan', 'busybox', 'sh', '-c', 'echo up; sleep 60']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('up'), 15_000, 'the container to run');
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    assert.equal(md.state('orphan').Status, 'running', 'docker semantics: the container does not depend on its client');
    md.ok(['rm', '-f', 'orphan']);
  }));

  it('--rm with its client killed: the monitor removes the container when it exits', withMydocker(async (md) => {
    const child = md.spawn(['run', '--rm', '--name', 'shortlived', 'busybox', 'sh', '-c', 'echo up; sleep 1']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('up'), 15_000, 'the container to run');
    child.kill('SIGKILL');
    await waitFor(() => md.ids().length === 0, 20_000, 'the container to be removed by its monitor');
  }));
});

describe('mydocker: kill -9 on a user network', () => {
  for (const point of ['start:network-allocated', 'start:monitor-created', 'start:started']) {
    it(`${point}: rm -f leaves no veth, rule, address or hosts entry; the neighbour forgets it`, withMydocker(async (md) => {
      md.ok(['network', 'create', 'crashnet']);
      md.ok(['run', '-d', '--name', 'stays', '--network', 'crashnet', 'busybox', 'sleep', '60']);
      const r = md.run(['run', '-d', '--name', 'dies', '--network', 'crashnet', 'busybox', 'sleep', '60'], {
        env: { MYDOCKER_TEST_CRASH_AT: point },
      });
      assert.equal(r.status, null, `killed at ${point}: ${r.stderr}`);
      md.ok(['rm', '-f', 'dies']);
      assert.doesNotMatch(md.ok(['exec', 'stays', 'cat', '/etc/hosts']), /dies/);
      md.ok(['rm', '-f', 'stays']);
      assert.deepEqual(networkLeaks(md.root), []);
      md.ok(['network', 'rm', 'crashnet']);
    }));
  }
});

describe('mydocker: kill -9 during network create and rm', () => {
  it('create killed after its config: the network works (its bridge is made on first use) and rm removes it', withMydocker((md) => {
    md.ok(['network', 'ls']); // the default network first: the crash is in the user network's creation
    const r = md.run(['network', 'create', 'half'], { env: { MYDOCKER_TEST_CRASH_AT: 'network:config-written' } });
    assert.equal(r.status, null);
    assert.match(md.ok(['network', 'ls', '--format', '{{.Name}}']), /^half$/m);
    const bridge = rootNetworks(md.root).find((n) => n.name === 'half')!.bridge;
    assert.equal(md.ok(['run', '--rm', '--network', 'half', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0 | wc -l']).trim(), '1');
    assert.ok(readdirSync('/sys/class/net').includes(bridge));
    md.ok(['network', 'rm', 'half']);
    assert.ok(!readdirSync('/sys/class/net').includes(bridge));
  }));

  it('rm killed after the bridge went: the next rm finishes', withMydocker((md) => {
    md.ok(['network', 'create', 'going']);
    const bridge = rootNetworks(md.root).find((n) => n.name === 'going')!.bridge;
    const r = md.run(['network', 'rm', 'going'], { env: { MYDOCKER_TEST_CRASH_AT: 'network:bridge-deleted' } });
    assert.equal(r.status, null);
    assert.ok(!readdirSync('/sys/class/net').includes(bridge));
    md.ok(['network', 'rm', 'going']);
    assert.doesNotMatch(md.ok(['network', 'ls', '--format', '{{.Name}}']), /going/);
  }));
});

describe('mydocker: kill -9 during rm and commit', () => {
  it('rm killed after the directory left the tree: the next rm finishes the removal', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'r1', 'busybox', 'sleep', '60']);
    const r = md.run(['rm', '-f', 'r1'], { env: { MYDOCKER_TEST_CRASH_AT: 'rm:detached' } });
    assert.equal(r.status, null);
    md.ok(['run', '--rm', '--name', 'r2', 'busybox', 'true']); // a later removal sweeps the half-removed one
    md.ok(['rm', '-f', 'r1']);
    const tmp = join(md.root, 'tmp');
    const left = (await import('node:fs')).readdirSync(tmp).filter((n) => n.startsWith('removing-'));
    assert.deepEqual(left, []);
  }));

  it('commit killed while the container is paused: the next commit succeeds and leaves it running', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'c1', 'busybox', 'sh', '-c', 'echo data > /file; sleep 60']);
    const r = md.run(['commit', 'c1', 'snap'], { env: { MYDOCKER_TEST_CRASH_AT: 'commit:paused' } });
    assert.equal(r.status, null);
    assert.equal(md.state('c1').Status, 'paused');
    md.ok(['commit', 'c1', 'snap']);
    assert.equal(md.state('c1').Status, 'running');
    assert.equal(md.ok(['run', '--rm', 'snap', 'cat', '/file']), 'data\n');
  }));
});

describe('mydocker: removal never deletes through a mount', () => {
  it('a host directory left bind-mounted inside a container dir survives rm -f', withMydocker((md) => {
    const host = join(md.dir, 'precious-host-dir');
    mkdirSync(host);
    writeFileSync(join(host, 'data'), 'user data');
    const id = md.ok(['create', '--name', 'm1', 'busybox', 'true']).trim();
    const target = join(md.root, 'containers', id, 'upper', 'leftover');
    mkdirSync(target);
    assert.equal(spawnSync('mount', ['--bind', host, target]).status, 0);
    try {
      md.ok(['rm', '-f', 'm1']);
    } finally {
      spawnSync('umount', [target]);
    }
    assert.equal(readFileSync(join(host, 'data'), 'utf8'), 'user data');
    assert.deepEqual(md.ids(), []);
  }));
});

describe('mydocker: corrupt or foreign state', () => {
  it('a corrupt container record: ps names it nowhere, inspect names the file, rm -f removes it', withMydocker((md) => {
    const id = md.ok(['create', '--name', 'broken', 'busybox', 'true']).trim();
    writeFileSync(join(md.root, 'containers', id, 'container.json'), '{"trunc');
    assert.equal(md.ok(['ps', '-aq']), '');
    const r = md.run(['inspect', id]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /container\.json is corrupt/);
    md.ok(['rm', '-f', id]);
    assert.deepEqual(md.ids(), []);
    md.ok(['create', '--name', 'broken', 'busybox', 'true']);
  }));

  it("a damaged network state of a running container: rm -f still detaches it (by what mydocker knows)", withMydocker((md) => {
    md.ok(['network', 'create', 'dmg']);
    const id = md.ok(['run', '-d', '--name', 'hurt', '--network', 'dmg', '-p', '80', 'busybox', 'sleep', '60']).trim();
    writeFileSync(join(md.root, 'run', 'networks', 'containers', id, 'result.json'), '{"trunc');
    md.ok(['rm', '-f', 'hurt']);
    assert.deepEqual(networkLeaks(md.root), []);
  }));

  it('a corrupt record of a running container on a network: rm -f finds its network by searching', withMydocker((md) => {
    const id = md.ok(['run', '-d', '--name', 'lost', '-p', '80', 'busybox', 'sleep', '60']).trim();
    writeFileSync(join(md.root, 'containers', id, 'container.json'), '{"trunc');
    md.ok(['rm', '-f', id]);
    assert.deepEqual(networkLeaks(md.root), []);
  }));
});
