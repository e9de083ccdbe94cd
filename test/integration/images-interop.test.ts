// Round trips with the mature tools, as the controls: what our `save` writes, skopeo
// (inspect, copy to oci:) and podman (load, with its own --root/--runroot) accept with the
// same image id and layers; what skopeo writes (docker-archive:, oci-archive:) and podman
// saves (docker-archive, oci-archive), our `load` accepts with the same id.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerArchive, image, sha, tarOf, testStore } from '../helpers/images.js';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const have = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;

describe('image store: round trips with skopeo and podman', { skip: !have('skopeo') || !have('podman') ? 'skopeo or podman missing' : false }, () => {
  const t = testStore('interop');
  const podman = (args: string[]) =>
    run('podman', ['--root', join(t.dir, 'podman-root'), '--runroot', join(t.dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'vfs', ...args]);
  let id = '';
  let diffIds: string[] = [];

  before(async () => {
    // Three layers with a whiteout and an opaque dir, one of them gzip'd inside our store.
    const l1 = await tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/a', data: 'a' }, { name: 'etc/b', data: 'b' }, { name: 'opt/', type: 'directory' }, { name: 'opt/x', data: 'x' }]);
    const l2 = await tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/.wh.a' }, { name: 'opt/', type: 'directory' }, { name: 'opt/.wh..wh..opq' }, { name: 'opt/y', data: 'y' }]);
    const l3 = await tarOf([{ name: 'hello', data: 'world', mode: 0o755 }]);
    const img = image([l1, l2, l3], { tags: ['interop:1'], gzip: true });
    writeFileSync(join(t.dir, 'in.tar'), await dockerArchive([img]));
    await t.store.load(join(t.dir, 'in.tar'));
    id = sha(img.config);
    diffIds = img.diffIds;
  });
  after(() => {
    spawnSync('podman', ['--root', join(t.dir, 'podman-root'), '--runroot', join(t.dir, 'podman-run'), '--storage-driver', 'vfs', 'rmi', '-a', '-f']);
    t.cleanup();
  });

  it('our save → skopeo inspect and skopeo copy to an OCI layout', async () => {
    const out = join(t.dir, 'saved.tar');
    await t.store.save(['interop:1'], out);
    const info = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${out}`]));
    assert.deepEqual(info.rootfs.diff_ids, diffIds);
    const raw = JSON.parse(run('skopeo', ['inspect', `docker-archive:${out}:docker.io/library/interop:1`]));
    assert.equal(raw.Layers.length, 3);
    run('skopeo', ['copy', '--quiet', `docker-archive:${out}`, `oci:${join(t.dir, 'layout')}:interop`]);
    const index = JSON.parse(readFileSync(join(t.dir, 'layout/index.json'), 'utf8'));
    assert.equal(index.manifests.length, 1);
    // The config blob came through byte for byte: the image id is the same.
    assert.ok(readdirSync(join(t.dir, 'layout/blobs/sha256')).includes(id.slice(7)));
  });

  it('our save → podman load: the same image id and layers under the same name', async () => {
    const out = join(t.dir, 'saved2.tar');
    await t.store.save(['interop:1'], out);
    const loaded = podman(['load', '-q', '-i', out]);
    assert.match(loaded, /interop:1/);
    const ins = JSON.parse(podman(['image', 'inspect', 'docker.io/library/interop:1']))[0];
    assert.equal(`sha256:${ins.Id}`.replace('sha256:sha256:', 'sha256:'), id);
    assert.deepEqual(ins.RootFS.Layers, diffIds);
  });

  it('podman save (docker-archive and oci-archive) → our load: the same id', async () => {
    for (const format of ['docker-archive', 'oci-archive']) {
      const t2 = testStore(`podman-${format}`);
      try {
        const out = join(t2.dir, 'p.tar');
        podman(['save', '--format', format, '-o', out, 'docker.io/library/interop:1']);
        const lines = await t2.store.load(out);
        assert.equal(lines.length, 1, lines.join('|'));
        const got = t2.store.get(id);
        assert.deepEqual(got.config.rootfs.diff_ids, diffIds, format);
      } finally {
        t2.cleanup();
      }
    }
  });

  it('skopeo copy of our archive to docker-archive: and oci-archive: → our load accepts both, same id, same files', async () => {
    const ours = join(t.dir, 'saved3.tar');
    await t.store.save(['interop:1'], ours);
    for (const dest of ['docker-archive', 'oci-archive']) {
      const t2 = testStore(`skopeo-${dest}`);
      try {
        const out = join(t2.dir, 'x.tar');
        run('skopeo', ['copy', '--quiet', `docker-archive:${ours}`, `${dest}:${out}:interop:copied`]);
        const lines = await t2.store.load(out);
        assert.deepEqual(lines, ['Loaded image: interop:copied'], dest);
        const img = t2.store.get('interop:copied');
        assert.equal(img.id, id);
        const dirs = await t2.store.layerDirs(img);
        assert.equal(readFileSync(join(dirs[2]!, 'hello'), 'utf8'), 'world');
        // The whiteout and the opaque marker came through as overlay ones.
        assert.ok(readdirSync(join(dirs[1]!, 'etc')).includes('a'));
      } finally {
        t2.cleanup();
      }
    }
  });

  it('the embedded default image reads in skopeo with our id', async () => {
    const { defaultImageArchive } = await import('../../src/mydocker/images/default-image.js');
    const info = JSON.parse(run('skopeo', ['inspect', '--raw', `docker-archive:${defaultImageArchive()}`]));
    assert.equal(info.layers.length, 1);
  });
});
