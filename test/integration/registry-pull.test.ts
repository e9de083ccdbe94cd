// mydocker pull from a real registry (docker-registry on 127.0.0.1, its own temp storage),
// with skopeo putting the images in (from archives and OCI layouts built offline) and skopeo
// and podman pulling the same references as the controls: the same manifest digest, the same
// image id, the same layers. The registry's own log says what mydocker asked for.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { dockerArchive, image, tarOf } from '../helpers/images.js';
import { withMydocker } from '../helpers/mydocker.js';
import { busyboxLayer, have, haveRegistry, ociImage, runAsync, runTty, sha, skopeo, skopeoCopy, TestRegistry, writeOciLayout } from '../helpers/registry.js';

describe('mydocker pull from a real registry', { skip: haveRegistry() ? false : 'docker-registry or skopeo missing' }, () => {
  let reg: TestRegistry;
  let work: string;
  let bb: Buffer;
  // test/app:1 — busybox, a layer with files, a layer with a whiteout and an opaque dir.
  let app: { id: string; diffIds: string[]; digest: string };

  before(async () => {
    reg = await TestRegistry.start('pull');
    work = reg.dir;
    bb = await busyboxLayer();
    const l2 = await tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/gone', data: 'x' }, { name: 'opt/', type: 'directory' }, { name: 'opt/old', data: 'old' }, { name: 'hello', data: 'hello from the registry\n' }]);
    const l3 = await tarOf([{ name: 'etc/', type: 'directory' }, { name: 'etc/.wh.gone' }, { name: 'opt/', type: 'directory' }, { name: 'opt/.wh..wh..opq' }, { name: 'opt/new', data: 'new' }]);
    const img = image([bb, l2, l3], { tags: ['test/app:1'], cmd: ['cat', '/hello'] });
    writeFileSync(join(work, 'app.tar'), await dockerArchive([img]));
    skopeoCopy(`docker-archive:${join(work, 'app.tar')}`, `docker://${reg.host}/test/app:1`);
    const raw = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/test/app:1`]);
    app = { id: sha(img.config), diffIds: img.diffIds, digest: sha(Buffer.from(raw)) };
  });
  after(async () => {
    await reg.stop();
    assert.deepEqual(reg.leftovers(), [], 'no docker-registry process left');
  });

  it('pulls a multi-layer image skopeo pushed: the same digest and id as skopeo sees, and it runs with its whiteouts applied', withMydocker(async (md) => {
    const ref = `${reg.host}/test/app:1`;
    const since = reg.requests().length;
    const out = md.ok(['pull', ref]);
    assert.deepEqual(out.trim().split('\n'), [`1: Pulling from test/app`, `Digest: ${app.digest}`, `Status: Downloaded newer image for ${ref}`, ref]);
    const ins = JSON.parse(md.ok(['image', 'inspect', ref]))[0];
    assert.equal(ins.Id, app.id);
    assert.deepEqual(ins.RootFS.Layers, app.diffIds);
    assert.deepEqual(ins.RepoDigests, [`${reg.host}/test/app@${app.digest}`]);
    assert.match(md.ok(['images', '--digests']), new RegExp(`${reg.host}/test/app\\s+1\\s+${app.digest}`));
    // The control: skopeo's own copy of the same reference has the same config.
    const oci = join(md.dir, 'oci');
    skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${oci}:x`]);
    const m = JSON.parse(readFileSync(join(oci, 'blobs/sha256', JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8'));
    assert.equal(m.config.digest, app.id);
    // What mydocker asked the registry: the manifest once, each blob once.
    const got = reg.requests(since).filter((r) => r.agent === 'mydocker' && r.method === 'GET' && r.uri.includes('/blobs/'));
    assert.equal(got.length, 4, JSON.stringify(got));
    assert.equal(md.ok(['run', '--rm', ref]), 'hello from the registry\n');
    assert.equal(md.ok(['run', '--rm', ref, 'sh', '-c', 'ls /opt; test -e /etc/gone && echo gone-is-there; true']), 'new\n');
  }));

  it('a second pull downloads nothing and says the image is up to date; an image sharing layers downloads only its own', withMydocker(async (md) => {
    const ref = `${reg.host}/test/app:1`;
    md.ok(['pull', ref]);
    let since = reg.requests().length;
    const again = md.ok(['pull', ref]);
    assert.match(again, new RegExp(`Status: Image is up to date for ${ref.replace(/\./g, '\\.')}`));
    assert.deepEqual(reg.requests(since).filter((r) => r.uri.includes('/blobs/')), []);
    // app2 shares busybox's layer with app.
    const extra = await tarOf([{ name: 'two', data: '2' }]);
    const img2 = image([bb, extra], { tags: ['test/app2:1'], cmd: ['cat', '/two'] });
    writeFileSync(join(md.dir, 'app2.tar'), await dockerArchive([img2]));
    skopeoCopy(`docker-archive:${join(md.dir, 'app2.tar')}`, `docker://${reg.host}/test/app2:1`);
    since = reg.requests().length;
    const tty = runTty(md, ['pull', `${reg.host}/test/app2:1`]);
    assert.equal(tty.status, 0, tty.stdout);
    const blobGets = reg.requests(since).filter((r) => r.agent === 'mydocker' && r.method === 'GET' && r.uri.includes('/blobs/'));
    assert.equal(blobGets.length, 2, `only the new layer and the config: ${JSON.stringify(blobGets)}`);
    // On a terminal: docker's lines, one per layer, rewritten in place.
    const screen = tty.stdout;
    assert.match(screen, /: Already exists/);
    for (const s of ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Pull complete', 'Digest: sha256:', 'Status: Downloaded newer image']) assert.ok(screen.includes(s), `${s} in:\n${screen}`);
    assert.match(screen, /\x1b\[\d+A/, 'lines are rewritten in place');
    assert.equal(md.ok(['run', '--rm', `${reg.host}/test/app2:1`]), '2');
  }));

  it('-q prints the name only; a digest reference pulls untagged; a missing tag is one clear line and exit 125', withMydocker(async (md) => {
    assert.equal(md.ok(['pull', '-q', `${reg.host}/test/app:1`]), `${reg.host}/test/app:1\n`);
    md.ok(['rmi', `${reg.host}/test/app:1`]);
    const byDigest = `${reg.host}/test/app@${app.digest}`;
    const out = md.ok(['pull', byDigest]);
    assert.match(out, new RegExp(`^${app.digest}: Pulling from test/app$`, 'm'));
    assert.match(out, new RegExp(`Status: Downloaded newer image for ${byDigest.replace(/\./g, '\\.')}`));
    const ins = JSON.parse(md.ok(['image', 'inspect', byDigest]))[0];
    assert.deepEqual(ins.RepoTags, []);
    assert.equal(ins.Id, app.id);
    const missing = md.run(['pull', `${reg.host}/test/app:nope`]);
    assert.equal(missing.status, 125);
    assert.equal(missing.stderr, `mydocker: manifest for ${reg.host}/test/app:nope not found: manifest unknown: manifest unknown\n`);
    const bad = md.run(['pull', `${reg.host}/Test/App`]);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^mydocker: invalid reference format: repository name \(Test\/App\) must be lowercase\n$/);
  }));

  it('an image index with two platforms: the host\'s by default, --platform picks the other, a third is refused (skopeo copy --all of an index built offline)', withMydocker(async (md) => {
    const l = await tarOf([{ name: 'arch', data: 'amd64\n' }]);
    const la = await tarOf([{ name: 'arch', data: 'arm64\n' }]);
    const amd = ociImage([bb, l], { arch: 'amd64', cmd: ['cat', '/arch'] });
    const arm = ociImage([bb, la], { arch: 'arm64', variant: 'v8', cmd: ['cat', '/arch'] });
    const layout = join(md.dir, 'multi');
    const d = writeOciLayout(layout, 'multi', [arm, amd]);
    skopeoCopy(`oci:${layout}:multi`, `docker://${reg.host}/test/multi:1`, ['--all']);
    const ref = `${reg.host}/test/multi:1`;
    const out = md.ok(['pull', ref]);
    assert.match(out, new RegExp(`Digest: ${d.index}`), 'the digest of the index, as docker records');
    assert.equal(JSON.parse(md.ok(['image', 'inspect', ref]))[0].Id, sha(amd.config));
    assert.equal(md.ok(['run', '--rm', ref]), 'amd64\n');
    md.ok(['pull', '--platform', 'linux/arm64', ref]);
    const ins = JSON.parse(md.ok(['image', 'inspect', ref]))[0];
    assert.equal(ins.Id, sha(arm.config));
    assert.equal(ins.Architecture, 'arm64');
    const none = md.run(['pull', '--platform', 'linux/s390x', ref]);
    assert.equal(none.status, 125);
    assert.equal(none.stderr, 'mydocker: no matching manifest for linux/s390x in the manifest list entries (it has linux/arm64, linux/amd64)\n');
    const badFlag = md.run(['pull', '--platform', 'amd64', ref]);
    assert.equal(badFlag.status, 125);
    assert.match(badFlag.stderr, /--platform amd64: want os\/arch\[\/variant\]/);
  }));

  it('zstd layers (OCI media type +zstd) are pulled through the zstd tool and run', { skip: have('zstd', '-V') ? false : 'zstd missing' }, withMydocker(async (md) => {
    const l = await tarOf([{ name: 'z', data: 'zstd layer\n' }]);
    const img = ociImage([bb, l], { compress: ['gzip', 'zstd'], cmd: ['cat', '/z'] });
    const layout = join(md.dir, 'z');
    writeOciLayout(layout, 'z', [img]);
    skopeoCopy(`oci:${layout}:z`, `docker://${reg.host}/test/zstd:1`);
    const raw = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/test/zstd:1`]));
    assert.equal(raw.layers[1].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd', 'skopeo kept the zstd layer');
    md.ok(['pull', `${reg.host}/test/zstd:1`]);
    assert.equal(md.ok(['run', '--rm', `${reg.host}/test/zstd:1`]), 'zstd layer\n');
  }));

  it('run of a missing image pulls it first (docker\'s "Unable to find image" on stderr); a missing one is one 125 line; a name on no reachable registry is never pulled', withMydocker(async (md) => {
    const ref = `${reg.host}/test/app:1`;
    const r = md.run(['run', '--rm', ref]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hello from the registry\n');
    assert.match(r.stderr, new RegExp(`^Unable to find image '${ref.replace(/\./g, '\\.')}' locally\n1: Pulling from test/app\nDigest: sha256:`));
    const missing = md.run(['run', '--rm', `${reg.host}/test/nothing`]);
    assert.equal(missing.status, 125);
    assert.equal(missing.stderr, `Unable to find image '${reg.host}/test/nothing:latest' locally\nmydocker: manifest for ${reg.host}/test/nothing:latest not found: manifest unknown: manifest unknown\n`);
    // Docker Hub is not reachable here: no pull is tried (no DNS query, nothing leaves).
    const hub = md.run(['run', '--rm', 'no-such-image-here', 'true']);
    assert.equal(hub.status, 125);
    assert.doesNotMatch(hub.stderr, /Unable to find/);
    assert.match(hub.stderr, /No such image: no-such-image-here:latest/);
    // The book's image-less form still wins: `run echo hi` is busybox's echo.
    assert.equal(md.ok(['run', '--rm', 'echo', 'hi']), 'hi\n');
    // create pulls too.
    md.ok(['rmi', ref]);
    const id = md.ok(['create', ref]).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(md.state(id).Status, 'created');
  }));

  it('podman pulls the same reference to the same image id (the control)', { skip: have('podman') ? false : 'podman missing' }, withMydocker(async (md) => {
    const ref = `${reg.host}/test/app:1`;
    md.ok(['pull', ref]);
    const base = ['--root', join(md.dir, 'podman-root'), '--runroot', join(md.dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'vfs'];
    try {
      const p = spawnSync('podman', [...base, 'pull', '-q', '--tls-verify=false', ref], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(p.status, 0, p.stderr);
      const pid = p.stdout.trim();
      assert.equal(`sha256:${pid}`, app.id);
      const ins = JSON.parse(spawnSync('podman', [...base, 'image', 'inspect', ref], { encoding: 'utf8' }).stdout)[0];
      assert.equal(ins.Digest, app.digest);
      assert.deepEqual(ins.RootFS.Layers, JSON.parse(md.ok(['image', 'inspect', ref]))[0].RootFS.Layers);
    } finally {
      spawnSync('podman', [...base, 'rmi', '-a', '-f'], { stdio: 'ignore' });
    }
  }));

  it('two pulls of one image at once both succeed, and each layer is unpacked once', withMydocker(async (md) => {
    const log = join(md.dir, 'unpacks.log');
    writeFileSync(log, '');
    const ref = `${reg.host}/test/app:1`;
    const [a, b] = await Promise.all([runAsync(md, ['pull', '-q', ref], { env: { MYDOCKER_TEST_UNPACK_LOG: log } }), runAsync(md, ['pull', '-q', ref], { env: { MYDOCKER_TEST_UNPACK_LOG: log } })]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').sort(), [...app.diffIds].sort());
    assert.equal(md.ok(['run', '--rm', ref]), 'hello from the registry\n');
  }));

  it('the store holds exactly the image after pulls: no temp areas, blobs = manifest + config + layers', withMydocker(async (md) => {
    md.ok(['pull', `${reg.host}/test/app:1`]);
    const root = md.root;
    assert.deepEqual(readdirSync(join(root, 'tmp')).filter((n) => n.startsWith('img-') || n.startsWith('.img-')), []);
    const blobs = readdirSync(join(root, 'images/blobs/sha256')).sort();
    assert.equal(blobs.length, 2 + 3, blobs.join(' '));
    const layers = readdirSync(join(root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
    assert.deepEqual(layers, app.diffIds.map((d) => d.slice(7)).sort());
  }));
});
