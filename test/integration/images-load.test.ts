// The image store on the real kernel: multi-layer docker-save archives and OCI layouts built
// offline (whiteouts, opaque dirs, hardlinks, setuid bits, devices, xattrs, owners), loaded,
// and mounted with a real overlayfs to check what a container would see. Then the queries
// and the names: list, inspect, history, tag, rmi with docker's messages and conflicts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lgetxattr } from '../../src/kernel/at.js';
import { ConflictError, NotFoundError } from '../../src/mydocker/errors.js';
import { dockerArchive, image, ociArchive, sha, snapshot, tarOf, testStore } from '../helpers/images.js';

const mtime = new Date('2021-06-01T12:00:00Z');

async function threeLayers() {
  const l1 = await tarOf([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/su', data: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'etc/', type: 'directory', mtime },
    { name: 'etc/passwd', data: 'root' },
    { name: 'etc/gone', data: 'x' },
    { name: 'etc/keep', data: 'k', uid: 1000, gid: 1001, mtime },
    { name: 'etc/hard', type: 'link', linkname: 'etc/keep' },
    { name: 'etc/attr', data: 'a', pax: { 'SCHILY.xattr.user.test': 'v\u00ff\u0001' } },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/a', data: 'a' },
    { name: 'opt/b', data: 'b' },
    { name: 'data/', type: 'directory' },
    { name: 'data/x', data: 'x' },
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
    { name: 'sticky/', type: 'directory', mode: 0o1777 },
  ]);
  const l2 = await tarOf([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.gone' },
    { name: 'etc/new', data: 'n' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/.wh..wh..opq' },
    { name: 'opt/c', data: 'c' },
    { name: 'data/', type: 'directory' },
    { name: 'data/.wh.x' },
  ]);
  const l3 = await tarOf([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', data: 'root2' },
    { name: '.wh.data' },
  ]);
  return [l1, l2, l3];
}

function mountOverlay(lowerdir: string, dir: string, cwd?: string): string {
  const merged = join(dir, 'merged');
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerdir},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, merged], {
    encoding: 'utf8',
    ...(cwd ? { cwd } : {}),
  });
  assert.equal(r.status, 0, r.stderr);
  return merged;
}

function umount(path: string): void {
  spawnSync('umount', [path]);
}

/** What a container sees in the merged view of the three layers. */
function checkView(merged: string): void {
  assert.equal(readFileSync(join(merged, 'etc/passwd'), 'utf8'), 'root2', 'top layer wins');
  assert.equal(existsSync(join(merged, 'etc/gone')), false, 'whiteout hides a lower file');
  assert.equal(readFileSync(join(merged, 'etc/new'), 'utf8'), 'n');
  assert.deepEqual(readdirSync(join(merged, 'opt')), ['c'], 'opaque dir hides lower content');
  assert.equal(existsSync(join(merged, 'data')), false, 'whiteout hides a lower directory');
  assert.equal(readFileSync(join(merged, 'etc/keep'), 'utf8'), 'k');
  const keep = statSync(join(merged, 'etc/keep'));
  assert.equal(keep.uid, 1000);
  assert.equal(keep.gid, 1001);
  assert.equal(keep.mtime.getTime(), mtime.getTime());
  assert.equal(statSync(join(merged, 'etc/hard')).ino, keep.ino, 'hardlink kept');
  assert.equal(statSync(join(merged, 'bin/su')).mode & 0o7777, 0o4755, 'setuid kept');
  assert.equal(statSync(join(merged, 'sticky')).mode & 0o7777, 0o1777);
  assert.equal(readlinkSync(join(merged, 'lib')), 'usr/lib');
  assert.equal(readlinkSync(join(merged, 'abs')), '/etc/passwd');
  const dev = statSync(join(merged, 'dev/null'));
  assert.ok(dev.isCharacterDevice());
  assert.equal(dev.rdev, (1 << 8) | 3);
  assert.ok(lstatSync(join(merged, 'dev/fifo')).isFIFO());
  assert.deepEqual(lgetxattr(join(merged, 'etc/attr'), 'user.test'), Buffer.from([0x76, 0xff, 0x01]), 'binary xattr kept byte for byte');
}

describe('image store: load, overlay view, names', () => {
  const t = testStore('load');
  let layers: Buffer[];
  before(async () => {
    layers = await threeLayers();
  });
  after(() => t.cleanup());

  it('loads a multi-layer docker-save archive (gzip and plain layers, two images sharing layers, several tags)', async () => {
    const img1 = image([layers[0]!, layers[1]!, layers[2]!], { tags: ['busybox:latest', 'example.com:5000/team/app:v1'] });
    const img2 = image([layers[0]!, layers[1]!], { tags: ['base:1'], gzip: true });
    const path = join(t.dir, 'docker.tar');
    writeFileSync(path, await dockerArchive([img1, img2]));
    const lines = await t.store.load(path);
    assert.deepEqual(lines, ['Loaded image: busybox:latest', 'Loaded image: example.com:5000/team/app:v1', 'Loaded image: base:1']);
    const a = t.store.get('busybox');
    assert.equal(a.id, sha(img1.config));
    assert.deepEqual(a.config.rootfs.diff_ids, img1.diffIds);
    assert.equal(t.store.get('base:1').id, sha(img2.config));
    // Each layer unpacked once, shared by both images.
    assert.equal(t.store.layers.list().length, 3);

    const { lowerdir } = await t.store.lowerdir(a);
    assert.match(lowerdir, /\/layers\/l\/[0-9a-f]{20}:/, 'short links');
    const dir = join(t.dir, 'ov1');
    const merged = mountOverlay(lowerdir, dir);
    try {
      checkView(merged);
    } finally {
      umount(merged);
    }
    // Loading it again changes nothing but the tags' time.
    const before = t.store.layers.list();
    assert.deepEqual(await t.store.load(path), lines);
    assert.deepEqual(t.store.layers.list(), before);
  });

  it('loads an OCI image layout archive (skopeo oci-archive: shape): same image, same id, same view', async () => {
    const t2 = testStore('oci');
    try {
      const img = image([layers[0]!, layers[1]!, layers[2]!], { tags: ['busybox:latest'], gzip: true });
      const untagged = image([layers[0]!], { tags: ['latest'] }); // a bare ref.name names no repository
      const path = join(t2.dir, 'oci.tar');
      writeFileSync(path, await ociArchive([img, untagged]));
      const lines = await t2.store.load(path);
      assert.deepEqual(lines, ['Loaded image: busybox:latest', `Loaded image ID: ${sha(untagged.config)}`]);
      const got = t2.store.get('busybox:latest');
      assert.equal(got.id, sha(img.config));
      // The manifest is stored as received: its digest is the one in index.json.
      assert.ok(t2.store.blobs.has(got.manifestDigest));
      const dirs = await t2.store.layerDirs(got);
      assert.equal(dirs.length, 3);
      const merged = mountOverlay([...dirs].reverse().join(':'), join(t2.dir, 'ov'));
      try {
        checkView(merged);
      } finally {
        umount(merged);
      }
    } finally {
      t2.cleanup();
    }
  });

  it('layerDirs unpacks a layer that went missing, from its blob', async () => {
    const img = t.store.get('busybox');
    const d = img.config.rootfs.diff_ids[1]!;
    t.store.layers.remove(d);
    assert.equal(t.store.layers.has(d), false);
    const dirs = await t.store.layerDirs(img);
    assert.equal(t.store.layers.has(d), true);
    assert.ok(existsSync(join(dirs[1]!, 'opt/c')));
  });

  it('a lowerdir too long for absolute paths falls back to relative short names', async () => {
    // 60 layers under a long root: absolute short links exceed the limit, relative ones fit.
    const deep = testStore('deep-' + 'x'.repeat(40));
    try {
      const tars = [];
      for (let i = 0; i < 60; i++) tars.push(await tarOf([{ name: `f${i}`, data: String(i) }]));
      const path = join(deep.dir, 'deep.tar');
      writeFileSync(path, await dockerArchive([image(tars, { tags: ['deep:1'] })]));
      await deep.store.load(path);
      const lo = await deep.store.lowerdir(deep.store.get('deep:1'));
      assert.equal(lo.cwd, deep.root.layers);
      assert.ok(lo.lowerdir.length < 4000);
      const merged = mountOverlay(lo.lowerdir, join(deep.dir, 'ov'), lo.cwd);
      try {
        assert.equal(readdirSync(merged).length, 60);
        assert.equal(readFileSync(join(merged, 'f0'), 'utf8'), '0');
      } finally {
        umount(merged);
      }
    } finally {
      deep.cleanup();
    }
  });

  it('list, inspect, history as docker shows them', () => {
    const ids = t.store.list().map((i) => i.id);
    assert.equal(ids.length, 2);
    const ins = t.store.inspect('busybox') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(ins.RepoTags, ['busybox:latest', 'example.com:5000/team/app:v1']);
    assert.equal(ins.Os, 'linux');
    assert.deepEqual(ins.Config.Cmd, ['sh']);
    assert.equal(ins.RootFS.Layers.length, 3);
    assert.ok(ins.Size > 0);
    const h = t.store.history('busybox');
    assert.equal(h.length, 3);
    assert.equal(h[0]!.id, ins.Id);
    assert.equal(h[1]!.id, '<missing>');
    assert.equal(h[0]!.createdBy, 'layer 2');
    assert.throws(() => t.store.get('nosuch'), (e) => e instanceof NotFoundError && e.message === 'No such image: nosuch');
  });

  it('tag moves a name; rmi untags, refuses in-use and multi-repo deletes with docker messages, then deletes and collects layers', async () => {
    const base = t.store.get('base:1');
    await t.store.tag('base:1', 'busybox:old');
    assert.deepEqual(t.store.get('busybox:old').id, base.id);
    // A tag taken from another image.
    await t.store.tag('busybox:latest', 'base:1');
    assert.equal(t.store.get('base:1').id, t.store.get('busybox').id);
    await t.store.tag(base.id, 'base:1');

    const inUse = (id: string) => (id === base.id ? 'c0ffee1234567890' : null);
    // Two names: rmi by name only untags.
    assert.deepEqual(await t.store.remove('busybox:old', { inUse }), ['Untagged: busybox:old']);
    // Now one name: in use → must force.
    await assert.rejects(t.store.remove('base:1', { inUse }), (e) => {
      assert.ok(e instanceof ConflictError);
      assert.match(e.message, /^conflict: unable to remove repository reference "base:1" \(must force\) - container c0ffee123456 is using its referenced image [0-9a-f]{12}$/);
      return true;
    });
    // By id, used by a running container: cannot be forced.
    await assert.rejects(t.store.remove(base.id, { force: true, inUse: () => ({ id: 'abcdef1234567', running: true }) }), /cannot be forced\) - image is being used by running container abcdef123456/);
    // By id with two names and no force: referenced in multiple repositories.
    await t.store.tag('base:1', 'other:2');
    await assert.rejects(t.store.remove(base.id.slice(7, 19)), /\(must be forced\) - image is referenced in multiple repositories/);
    const snap = snapshot(t.root);
    const lines = await t.store.remove(base.id.slice(7, 19), { force: true });
    assert.deepEqual(lines.slice(0, 3), ['Untagged: base:1', 'Untagged: other:2', `Deleted: ${base.id}`]);
    // Its layers are shared with busybox: none deleted.
    assert.equal(lines.length, 3);
    assert.notEqual(snapshot(t.root), snap);
    assert.equal(t.store.layers.list().length, 3);
    // The last image: untag both names, delete, collect its layers and blobs.
    await t.store.remove('example.com:5000/team/app:v1');
    const last = await t.store.remove('busybox');
    assert.equal(last[0], 'Untagged: busybox:latest');
    assert.equal(last.filter((l) => l.startsWith('Deleted: ')).length, 4);
    assert.deepEqual(t.store.layers.list(), []);
    assert.deepEqual(t.store.blobs.list(), []);
    assert.deepEqual(t.store.list(), []);
  });
});

describe('image store: zstd layers', () => {
  const haveZstd = spawnSync('zstd', ['--version']).status === 0;
  it('loads a zstd-compressed layer where zstd is installed, and refuses clearly where it is not', { skip: haveZstd ? false : 'zstd not installed' }, async () => {
    const t = testStore('zstd');
    try {
      const tar = await tarOf([{ name: 'z', data: 'zstd layer' }]);
      const img = image([tar], { tags: ['zstd:1'] });
      img.layers = [spawnSync('zstd', ['-q', '-c'], { input: tar }).stdout];
      const path = join(t.dir, 'z.tar');
      writeFileSync(path, await ociArchive([img]));
      const path2 = join(t.dir, 'z2.tar');
      writeFileSync(path2, await dockerArchive([img]));
      const saved = process.env.PATH;
      process.env.PATH = '/nonexistent';
      try {
        await assert.rejects(t.store.load(path), /layer sha256:[0-9a-f]{64}: zstd-compressed, and zstd is not installed \(apt-get install zstd\)/);
      } finally {
        process.env.PATH = saved;
      }
      assert.deepEqual(t.store.list(), []);
      assert.deepEqual(await t.store.load(path), ['Loaded image: zstd:1']);
      const [dir] = await t.store.layerDirs(t.store.get('zstd:1'));
      assert.equal(readFileSync(join(dir!, 'z'), 'utf8'), 'zstd layer');
      // A docker-save archive with the same zstd layer: same image, nothing unpacked again.
      assert.deepEqual(await t.store.load(path2), ['Loaded image: zstd:1']);
      // And save gives the uncompressed layer tar back, whose digest is the diff id.
      await t.store.save(['zstd:1'], join(t.dir, 'out.tar'));
      const listing = spawnSync('tar', ['tf', join(t.dir, 'out.tar')], { encoding: 'utf8' }).stdout;
      assert.match(listing, /layer\.tar/);
    } finally {
      t.cleanup();
    }
  });
});

describe('image store: rmi --force of an image a stopped container uses, then prune', () => {
  it('deletes the record but keeps the layers the container mounts; prune removes them once unused', async () => {
    const t = testStore('prune');
    try {
      const path = join(t.dir, 'a.tar');
      writeFileSync(path, await dockerArchive([image([await tarOf([{ name: 'a', data: 'a' }])], { tags: ['used:1'] })]));
      await t.store.load(path);
      const img = t.store.get('used:1');
      const inUse = (id: string) => (id === img.id ? 'feedfacecafe0001' : null);
      await assert.rejects(t.store.remove(img.id, { inUse }), /\(must be forced\) - image is being used by stopped container feedfacecafe/);
      assert.deepEqual(await t.store.remove(img.id, { force: true, inUse }), ['Untagged: used:1', `Deleted: ${img.id}`]);
      assert.deepEqual(t.store.list(), []);
      assert.equal(t.store.layers.list().length, 1, 'the container still needs its layer');
      assert.deepEqual(await t.store.prune(img.config.rootfs.diff_ids), { blobs: 3, layers: 0 });
      assert.equal(t.store.layers.list().length, 1);
      assert.deepEqual(await t.store.prune(), { blobs: 0, layers: 1 });
      assert.deepEqual(t.store.layers.list(), []);
      assert.deepEqual(readdirSync(join(t.root.layers, 'l')), []);
    } finally {
      t.cleanup();
    }
  });
});

describe('image store: a load that takes a tag from another image', () => {
  it("says so as docker does, and the old image stays, untagged", async () => {
    const t = testStore('retag');
    try {
      const a = image([await tarOf([{ name: 'a', data: 'a' }])], { tags: ['app:1'] });
      const b = image([await tarOf([{ name: 'b', data: 'b' }])], { tags: ['app:1'] });
      writeFileSync(join(t.dir, 'a.tar'), await dockerArchive([a]));
      writeFileSync(join(t.dir, 'b.tar'), await dockerArchive([b]));
      await t.store.load(join(t.dir, 'a.tar'));
      assert.deepEqual(await t.store.load(join(t.dir, 'b.tar')), [
        `The image app:1 already exists, renaming the old one with ID ${sha(a.config)} to empty string`,
        'Loaded image: app:1',
      ]);
      assert.equal(t.store.get('app:1').id, sha(b.config));
      assert.deepEqual(t.store.get(sha(a.config)).repoTags, []);
    } finally {
      t.cleanup();
    }
  });
});
