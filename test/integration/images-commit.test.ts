// commit, import, export and the embedded default image, on real overlayfs: a "container"
// (an overlay of the busybox image with its own upper dir) creates, modifies and deletes
// files and replaces a directory (an opaque dir in the upper); commit turns that upper dir
// into a layer whose application on the image gives exactly the container's view, runnable
// at once (chroot into a fresh overlay of the new image).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ConflictError } from '../../src/mydocker/errors.js';
import { exportTree } from '../../src/mydocker/images/export.js';
import { defaultImageArchive } from '../../src/mydocker/images/default-image.js';
import type { Image } from '../../src/mydocker/images/types.js';
import { tarOf, testStore } from '../helpers/images.js';

function overlay(lowerdir: string, dir: string): string {
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
  const merged = join(dir, 'merged');
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerdir},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, merged], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return merged;
}
const umount = (p: string) => assert.equal(spawnSync('umount', [p]).status, 0);

function sh(root: string, script: string): string {
  const r = spawnSync('/usr/sbin/chroot', [root, '/bin/sh', '-c', script], { encoding: 'utf8', env: { PATH: '/bin' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The merged view as a sorted listing (path, type, size, mode) — what a container sees. */
function view(root: string, skip: string[] = ['proc', 'sys', 'dev']): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      if (skip.includes(r)) continue;
      const st = lstatSync(join(d, n));
      const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? `l>${readlinkSync(join(d, n))}` : `f${st.size}`;
      out.push(`${r} ${kind} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(join(d, n), r);
    }
  };
  walk(root, '');
  return out;
}

describe('image store: default image, import, commit, export', () => {
  const t = testStore('commit');
  let busybox: Image;
  before(() => {
    assert.ok(existsSync(defaultImageArchive()), `run make default-image (${defaultImageArchive()})`);
  });
  after(() => t.cleanup());

  it('the default image build is reproducible: two builds, the same bytes (whatever the umask)', () => {
    const script = fileURLToPath(new URL('../../src/build/default-image.js', import.meta.url));
    const a = join(t.dir, 'a.tar');
    const b = join(t.dir, 'b.tar');
    assert.equal(spawnSync(process.execPath, [script, a], { encoding: 'utf8' }).status, 0);
    assert.equal(spawnSync('/bin/sh', ['-c', `umask 077; exec "$0" "$@"`, process.execPath, script, b], { encoding: 'utf8' }).status, 0);
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    assert.ok(readFileSync(a).equals(readFileSync(defaultImageArchive())), 'dist/ holds the same build');
  });

  it('ensureDefault loads the embedded busybox offline, then only reads the index', async () => {
    busybox = await t.store.ensureDefault();
    assert.deepEqual(busybox.repoTags, ['docker.io/library/busybox:latest']);
    assert.deepEqual(busybox.config.config?.Cmd, ['sh']);
    // The fast path never opens the archive: pointing it elsewhere changes nothing.
    const saved = process.env.MYDOCKER_DEFAULT_IMAGE;
    process.env.MYDOCKER_DEFAULT_IMAGE = join(t.dir, 'does-not-exist.tar');
    try {
      assert.equal((await t.store.ensureDefault()).id, busybox.id);
    } finally {
      if (saved === undefined) delete process.env.MYDOCKER_DEFAULT_IMAGE;
      else process.env.MYDOCKER_DEFAULT_IMAGE = saved;
    }
    const merged = overlay((await t.store.lowerdir(busybox)).lowerdir, join(t.dir, 'bb'));
    try {
      assert.equal(sh(merged, 'echo hi'), 'hi\n');
    } finally {
      umount(merged);
    }
  });

  it('commit: the container upper dir as a new layer; a fresh overlay of the result shows the container view', async () => {
    const cdir = join(t.dir, 'container');
    const merged = overlay((await t.store.lowerdir(busybox)).lowerdir, cdir);
    let expected: string[];
    try {
      // Created, modified, deleted files; a deleted directory; a directory replaced (opaque);
      // a volume mountpoint whose content must stay out; a symlink to a host path.
      writeFileSync(join(merged, 'new.txt'), 'new\n');
      writeFileSync(join(merged, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n');
      unlinkSync(join(merged, 'bin/vi'));
      rmSync(join(merged, 'home'), { recursive: true });
      rmSync(join(merged, 'root'), { recursive: true });
      mkdirSync(join(merged, 'root'));
      writeFileSync(join(merged, 'root/only'), 'only');
      mkdirSync(join(merged, 'data'), { recursive: true });
      writeFileSync(join(merged, 'data/secret'), 'volume content');
      symlinkSync('/etc/hostname', join(merged, 'hostlink'));
      expected = view(merged).filter((l) => !l.startsWith('data/'));
    } finally {
      umount(merged);
    }
    assert.equal(lstatSync(join(cdir, 'upper/bin/vi')).rdev, 0, 'overlay whiteout in the upper dir');

    const id = await t.store.commit({
      upperDir: join(cdir, 'upper'),
      parent: busybox,
      changes: ['CMD ["cat", "/new.txt"]', 'ENV A=1', 'WORKDIR /tmp', 'LABEL k=v'],
      ref: 'committed:1',
      author: 'tester',
      message: 'a message',
      createdBy: 'sh',
      exclude: ['/data'],
    });
    const img = t.store.get('committed:1');
    assert.equal(img.id, id);
    assert.deepEqual(img.config.config?.Cmd, ['cat', '/new.txt']);
    assert.deepEqual(img.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
    assert.equal(img.config.config?.WorkingDir, '/tmp');
    assert.equal(img.config.author, 'tester');
    assert.equal(img.config.rootfs.diff_ids.length, busybox.config.rootfs.diff_ids.length + 1);
    const h = t.store.history('committed:1');
    assert.equal(h[0]!.comment, 'a message');
    assert.equal(h[0]!.createdBy, 'sh');
    assert.equal((t.store.inspect('committed:1') as { Parent: string }).Parent, busybox.id);

    // The layer's blob holds OCI whiteouts, the opaque marker, and not the volume's content.
    const manifest = t.store.manifest(img);
    const blob = t.store.blobs.path(manifest.layers[manifest.layers.length - 1]!.digest);
    const names = spawnSync('tar', ['tf', blob], { encoding: 'utf8' }).stdout.split('\n');
    for (const n of ['bin/.wh.vi', '.wh.home', 'root/.wh..wh..opq', 'root/only', 'new.txt', 'data/']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    assert.ok(!names.includes('data/secret'));

    // A new container of the committed image sees what the old one saw, and runs.
    const fresh = overlay((await t.store.lowerdir(img)).lowerdir, join(t.dir, 'fresh'));
    try {
      assert.deepEqual(view(fresh).filter((l) => !l.startsWith('data/')), expected);
      assert.deepEqual(readdirSync(join(fresh, 'data')), []);
      assert.deepEqual(readdirSync(join(fresh, 'root')), ['only']);
      assert.equal(sh(fresh, 'cat /new.txt; grep -c user /etc/passwd; test -e /bin/vi || echo novi'), 'new\n1\nnovi\n');
    } finally {
      umount(fresh);
    }
    // The parent has a child now.
    await assert.rejects(t.store.remove(busybox.id, { force: true }), (e) => e instanceof ConflictError && /image has dependent child images/.test(e.message));
  });

  it('commit refuses an upper dir with overlay redirects (no layer can say "renamed")', async () => {
    const upper = join(t.dir, 'redirect-upper');
    mkdirSync(join(upper, 'moved'), { recursive: true });
    const { lsetxattr } = await import('../../src/kernel/at.js');
    lsetxattr(join(upper, 'moved'), 'trusted.overlay.redirect', Buffer.from('/home'), 0);
    const before = t.store.list().length;
    await assert.rejects(t.store.commit({ upperDir: upper, parent: busybox }), /renamed inside the container \(overlay redirect_dir\)/);
    assert.equal(t.store.list().length, before);
    assert.deepEqual(readdirSync(t.root.tmp), []);
  });

  it('import: rootfs tarballs (.tar, .tar.gz, .tar.xz, stdin) by magic bytes, with changes and message', async () => {
    const rootfs = await tarOf([
      { name: './', type: 'directory' },
      { name: './bin/', type: 'directory' },
      { name: './bin/hello', data: '#!/bin/sh\necho hello\n', mode: 0o755 },
      { name: './etc/', type: 'directory' },
      { name: './etc/os-release', data: 'ID=test\n' },
    ]);
    const plain = join(t.dir, 'rootfs.tar');
    const gz = join(t.dir, 'rootfs.bin'); // named to mislead: gzip inside
    const xz = join(t.dir, 'rootfs.tar.xz');
    writeFileSync(plain, rootfs);
    writeFileSync(gz, gzipSync(rootfs));
    writeFileSync(xz, spawnSync('xz', ['-c'], { input: rootfs }).stdout);
    const ids = new Set<string>();
    for (const src of [plain, gz, xz]) {
      const id = await t.store.importRootfs(src, { ref: 'imported:1', changes: ['CMD ["/bin/hello"]'], message: src.endsWith('.xz') ? 'from xz' : undefined });
      const img = t.store.get(id);
      assert.deepEqual(img.config.config?.Cmd, ['/bin/hello']);
      assert.equal(img.config.history?.[0]?.comment, src.endsWith('.xz') ? 'from xz' : `Imported from ${src}`);
      ids.add(img.config.rootfs.diff_ids[0]!);
    }
    assert.equal(ids.size, 1, 'one diff id whatever the compression');
    const [dir] = await t.store.layerDirs(t.store.get('imported:1'));
    assert.equal(readFileSync(join(dir!, 'bin/hello'), 'utf8'), '#!/bin/sh\necho hello\n');
    assert.equal(lstatSync(join(dir!, 'bin/hello')).mode & 0o777, 0o755);

    // From stdin, in a child process (import '-').
    const STORE = fileURLToPath(new URL('../../src/mydocker/images/store.js', import.meta.url));
    const PATHS = fileURLToPath(new URL('../../src/mydocker/paths.js', import.meta.url));
    const code = `const { ImageStore } = await import(${JSON.stringify(STORE)}); const { DataRoot } = await import(${JSON.stringify(PATHS)});
      console.log(await new ImageStore(new DataRoot(${JSON.stringify(t.root.lib)})).importRootfs('-', { ref: 'fromstdin:1' }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stdin.end(gzipSync(rootfs));
    const status = await new Promise((r) => child.on('exit', r));
    assert.equal(status, 0);
    assert.match(out.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.equal(t.store.get('fromstdin:1').config.history?.[0]?.comment, 'Imported from -');
  });

  it('export: a container filesystem as a plain tar, symlinks kept as symlinks, volumes excluded', async () => {
    const img = t.store.get('committed:1');
    const merged = overlay((await t.store.lowerdir(img)).lowerdir, join(t.dir, 'exp'));
    const out = join(t.dir, 'export.tar');
    try {
      writeFileSync(join(merged, 'data/volume-file'), 'x');
      await exportTree(merged, out, { exclude: ['/data'] });
    } finally {
      umount(merged);
    }
    const list = spawnSync('tar', ['tvf', out], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^l\S+ 0\/0 +0 .* hostlink -> \/etc\/hostname$/m);
    assert.match(list.stdout, / new\.txt$/m);
    assert.match(list.stdout, / data\/$/m);
    assert.doesNotMatch(list.stdout, /volume-file|\.wh\./);
    // What we exported imports back as the same tree.
    const id = await t.store.importRootfs(out, { ref: 'reimported:1' });
    const [dir] = await t.store.layerDirs(t.store.get(id));
    assert.equal(readFileSync(join(dir!, 'new.txt'), 'utf8'), 'new\n');
    assert.equal(readlinkSync(join(dir!, 'hostlink')), '/etc/hostname');
  });
});
