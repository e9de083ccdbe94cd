// A full disk under mydocker's data root. Each test puts the sandbox's root on a small tmpfs
// (and its run tree on another, as /run is its own tmpfs on a real host), fills it — from
// inside a container, or with a file beside — and checks what docker users rely on: the
// failing command says what it could not write, in one line, with exit 125; nothing half
// made is left (layer, blob, temp, record, mount); a container's own exit code is never lost
// to the disk; and once space is back, the same commands work. withMydocker then checks the
// host (mounts, processes, cgroups, runtime state, conmon's links and exit files).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataRoot } from '../../src/mydocker/paths.js';
import { dockerArchive, image, snapshot, tarOf } from '../helpers/images.js';
import { mountsUnder, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';

/** The root on a `size` tmpfs, its run tree on its own; the busybox image loaded. */
function smallDisk(md: MydockerSandbox, size = '12m'): void {
  md.mountTmpfs(md.root, size);
  md.mountTmpfs(join(md.root, 'run'), '8m');
  md.ok(['run', '--rm', 'busybox', 'true']); // the embedded image, loaded once
}

/** Fill the root's disk with a file beside the data; returns it (remove it to free the space). */
function fill(md: MydockerSandbox): string {
  const path = join(md.root, 'filler');
  spawnSync('dd', ['if=/dev/zero', `of=${path}`, 'bs=1M', 'count=1024'], { stdio: 'ignore' });
  assert.equal(statfsSync(md.root).bavail, 0, 'the disk is full');
  return path;
}

/** One line on stderr naming the disk's refusal, exit 125. */
function assertFullDiskError(r: { status: number | null; stderr: string }, what: string): void {
  assert.equal(r.status, 125, `${what}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: one line: ${r.stderr}`);
  assert.match(lines[0]!, /^mydocker: .*no space left on device \(ENOSPC\)$/i, what);
}

const tmpEntries = (md: MydockerSandbox) => {
  try {
    return readdirSync(join(md.root, 'tmp'));
  } catch {
    return [];
  }
};

describe('mydocker: a full disk', () => {
  it('a container that fills it: run still returns its exit code, ps and inspect show it, rm gives the space back', withMydocker((md) => {
    smallDisk(md);
    const free = statfsSync(md.root).bavail;
    const r = md.run(['run', '--name', 'filler', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=100 2>/dev/null; echo dd=$?; exit 3']);
    assert.equal(r.stdout.trim(), 'dd=1', 'dd met the full disk');
    assert.equal(r.status, 3, `the container's code, not the disk's: ${r.stderr}`);
    // Its record could not be written: said once, as a warning.
    assert.match(r.stderr, /^WARNING: container [0-9a-f]{12} exited with 3, but its cleanup failed: write .*container\.json.*: No space left on device \(ENOSPC\)\n$/);
    assert.match(md.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /^filler Exited \(3\) /m);
    assert.equal(md.state('filler').ExitCode, 3);
    md.ok(['rm', 'filler']);
    assert.equal(statfsSync(md.root).bavail, free, 'the container layer is gone with it');
  }));

  it('load and import larger than the free space: one line, exit 125, nothing of them left; the store still works', withMydocker(async (md) => {
    smallDisk(md);
    const big = await tarOf([{ name: 'data/' }, { name: 'data/random.bin', data: randomBytes(10 << 20) }]);
    const archive = join(md.dir, 'big-save.tar');
    writeFileSync(archive, await dockerArchive([image([big], { tags: ['big:1'] })]));
    const rootfsTar = join(md.dir, 'big-rootfs.tar');
    writeFileSync(rootfsTar, big);
    const before = snapshot(new DataRoot(md.root));
    assertFullDiskError(md.run(['load', '-i', archive]), 'load');
    assert.equal(snapshot(new DataRoot(md.root)), before, 'load left nothing');
    const imp = md.run(['import', rootfsTar, 'big:2']);
    assertFullDiskError(imp, 'import');
    assert.match(imp.stderr, /big-rootfs\.tar: cannot unpack it: /, 'names the archive');
    assert.doesNotMatch(imp.stderr, /corrupt/, 'the archive is not blamed');
    assert.equal(snapshot(new DataRoot(md.root)), before, 'import left nothing');
    assert.deepEqual(tmpEntries(md), []);
    // A small one still fits.
    const small = join(md.dir, 'small.tar');
    writeFileSync(small, await tarOf([{ name: 'hello', data: 'hi\n' }]));
    md.ok(['import', small, 'small:1']);
    assert.match(md.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^small:1$/m);
  }));

  it('commit with no room for the layer: one line, no layer or temp left, the container runs on unpaused; with room it commits', withMydocker((md) => {
    smallDisk(md);
    md.ok(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '1000']);
    // 5 MB of changes: its layer needs the tar and the unpacked copy, more than is left.
    md.ok(['exec', 'c1', 'sh', '-c', 'head -c 5000000 /dev/urandom > /data.bin']);
    const before = snapshot(new DataRoot(md.root));
    assertFullDiskError(md.run(['commit', 'c1', 'snap:1']), 'commit');
    assert.equal(snapshot(new DataRoot(md.root)), before, 'no half layer, blob or temp');
    const st = md.state('c1') as ReturnType<MydockerSandbox['state']> & { Paused: boolean };
    assert.equal(st.Status, 'running', 'unpaused after the failure');
    assert.equal(st.Paused, false);
    md.ok(['exec', 'c1', 'rm', '/data.bin']);
    md.ok(['exec', 'c1', 'sh', '-c', 'echo kept > /kept']);
    md.ok(['commit', 'c1', 'snap:1']);
    assert.equal(md.ok(['run', '--rm', 'snap:1', 'cat', '/kept']), 'kept\n');
  }));

  it('run, create and cp on a full disk fail in one line leaving nothing; stop still stops; with space back all works', withMydocker((md) => {
    smallDisk(md);
    md.ok(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '1000']);
    const filler = fill(md);
    const idsBefore = md.ids().sort();
    assertFullDiskError(md.run(['run', '-d', '--name', 'd1', 'busybox', 'true']), 'run -d');
    assertFullDiskError(md.run(['run', '--rm', 'busybox', 'true']), 'run --rm');
    assertFullDiskError(md.run(['create', '--name', 'd2', 'busybox', 'true']), 'create');
    assert.deepEqual(md.ids().sort(), idsBefore, 'no container half made');
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Names}}']), 'keep\n', 'names released');
    const file = join(md.dir, 'h.txt');
    writeFileSync(file, 'hello\n');
    const cp = md.run(['cp', file, 'keep:/h.txt']);
    assertFullDiskError(cp, 'cp');
    assert.match(cp.stderr, /keep:\/h\.txt/, 'names the destination');
    // The stop is done even though its record cannot be written: a warning, exit 0.
    const stop = md.run(['stop', '-t', '1', 'keep']);
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(stop.stderr, /^WARNING: container keep stopped, but its cleanup failed: .*ENOSPC/);
    assert.equal(md.state('keep').Running, false);
    // A start that cannot write its record fails before anything runs and mounts nothing.
    assertFullDiskError(md.run(['start', 'keep']), 'start');
    assert.equal(md.state('keep').Running, false);
    assert.equal(md.state('keep').ExitCode, 137, 'the last run\'s status is still there');
    assert.deepEqual(mountsUnder(md.dir).sort(), [md.root, join(md.root, 'run')].sort(), 'its rootfs unmounted (the stop could not clean up; the start did)');
    rmSync(filler);
    md.ok(['start', 'keep']);
    md.ok(['cp', file, 'keep:/h.txt']);
    assert.equal(md.ok(['exec', 'keep', 'cat', '/h.txt']), 'hello\n');
    md.ok(['run', '--rm', 'busybox', 'true']);
    md.ok(['rm', '-f', 'keep']);
  }));
});
