// mydocker push to a real registry (docker-registry on 127.0.0.1): the embedded busybox and a
// committed image go up; skopeo and podman read them back with the same image id; mydocker
// pulls them back after rmi; a second push sends nothing; a layer the registry has in another
// repository is mounted across; big blobs go up in chunks; a damaged store blob never reaches
// the registry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { pushImage } from '../../src/mydocker/registry/push.js';
import { dockerArchive, image, tarOf, testStore } from '../helpers/images.js';
import { withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';
import { have, haveRegistry, runTty, sha, skopeo, TestRegistry } from '../helpers/registry.js';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('mydocker push to a real registry', { skip: haveRegistry() ? false : 'docker-registry or skopeo missing' }, () => {
  let reg: TestRegistry;

  before(async () => {
    reg = await TestRegistry.start('push');
  });
  after(async () => {
    await reg.stop();
    assert.deepEqual(reg.leftovers(), [], 'no docker-registry process left');
  });

  /** The digest the registry serves for a reference, per skopeo. */
  const remoteDigest = (ref: string) => sha(Buffer.from(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])));
  const remoteConfig = (ref: string) => sha(Buffer.from(skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${ref}`])));

  function pushBusybox(md: MydockerSandbox): { ref: string; id: string; digest: string } {
    md.ok(['run', '--rm', 'busybox', 'true']); // the embedded image, into the store
    const ref = `${reg.host}/lib/bb:1`;
    md.ok(['tag', 'busybox', ref]);
    const out = md.ok(['push', ref]);
    const m = new RegExp(`^The push refers to repository \\[${esc(`${reg.host}/lib/bb`)}\\]\n1: digest: (sha256:[0-9a-f]{64}) size: (\\d+)\n$`).exec(out);
    assert.ok(m, out);
    return { ref, id: JSON.parse(md.ok(['image', 'inspect', 'busybox']))[0].Id, digest: m[1]! };
  }

  it('the embedded busybox and a committed image go up; skopeo and podman read them back with the same ids; mydocker pulls them back after rmi', withMydocker(async (md) => {
    const bb = pushBusybox(md);
    assert.equal(remoteDigest(bb.ref), bb.digest);
    assert.equal(remoteConfig(bb.ref), bb.id);
    assert.ok(JSON.parse(md.ok(['image', 'inspect', 'busybox']))[0].RepoDigests.includes(`${reg.host}/lib/bb@${bb.digest}`), 'the pushed digest is recorded');

    md.ok(['run', '--name', 'c1', 'busybox', 'sh', '-c', 'echo committed > /data.txt; rm /bin/vi']);
    const ref = `${reg.host}/test/committed:1`;
    const id = md.ok(['commit', 'c1', ref]).trim();
    const since = reg.requests().length;
    const tty = runTty(md, ['push', ref]);
    assert.equal(tty.status, 0, tty.stdout);
    // busybox's layer is in lib/bb already: mounted across, not uploaded.
    assert.match(tty.stdout, /: Mounted from lib\/bb/);
    assert.match(tty.stdout, /: Pushed/);
    const digest = new RegExp(`1: digest: (sha256:[0-9a-f]{64}) size: \\d+`).exec(tty.stdout)![1]!;
    const reqs = reg.requests(since).filter((r) => r.agent === 'mydocker');
    assert.ok(reqs.some((r) => r.method === 'POST' && r.uri.includes('mount=sha256') && r.uri.includes('from=lib%2Fbb') && r.status === 201), JSON.stringify(reqs));
    assert.equal(reqs.filter((r) => r.method === 'PUT' && r.uri.includes('/blobs/uploads/')).length, 2, 'the new layer and the config are uploaded');
    assert.equal(remoteDigest(ref), digest);
    assert.equal(remoteConfig(ref), id);

    // skopeo's copy: the committed layer holds the file and the whiteout.
    const oci = join(md.dir, 'oci');
    skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${oci}:x`]);
    const idx = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8'));
    const m = JSON.parse(readFileSync(join(oci, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
    assert.equal(m.config.digest, id);
    const topBlob = readFileSync(join(oci, 'blobs/sha256', m.layers[m.layers.length - 1].digest.slice(7)));
    // (skopeo compresses layers on the way into an OCI layout)
    const list = spawnSync('tar', ['-t'], { input: topBlob[0] === 0x1f ? gunzipSync(topBlob) : topBlob, encoding: 'utf8' }).stdout;
    assert.match(list, /data\.txt/);
    assert.match(list, /bin\/\.wh\.vi/);

    if (have('podman')) {
      const base = ['--root', join(md.dir, 'podman-root'), '--runroot', join(md.dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', 'vfs'];
      try {
        const p = spawnSync('podman', [...base, 'pull', '-q', '--tls-verify=false', ref], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(p.status, 0, p.stderr);
        assert.equal(`sha256:${p.stdout.trim()}`, id, 'podman sees the same image id');
      } finally {
        spawnSync('podman', [...base, 'rmi', '-a', '-f'], { stdio: 'ignore' });
      }
    }

    // Gone from the store, back from the registry.
    md.ok(['rm', 'c1']);
    md.ok(['rmi', ref]);
    assert.equal(md.run(['image', 'inspect', ref]).status, 125);
    const pulled = md.ok(['pull', ref]);
    assert.match(pulled, new RegExp(`Digest: ${digest}`));
    assert.equal(JSON.parse(md.ok(['image', 'inspect', ref]))[0].Id, id);
    assert.equal(md.ok(['run', '--rm', ref, 'sh', '-c', 'cat /data.txt; test -e /bin/vi || echo no-vi']), 'committed\nno-vi\n');
  }));

  it('a second push sends no blob ("Layer already exists"); push -a sends every tag; bad names are one clear line', withMydocker(async (md) => {
    const bb = pushBusybox(md);
    const since = reg.requests().length;
    const tty = runTty(md, ['push', bb.ref]);
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /: Layer already exists/);
    assert.match(tty.stdout, new RegExp(`1: digest: ${bb.digest} size: \\d+`));
    const reqs = reg.requests(since).filter((r) => r.agent === 'mydocker');
    assert.deepEqual(reqs.filter((r) => r.method === 'POST' || r.method === 'PATCH' || (r.method === 'PUT' && r.uri.includes('/blobs/'))), []);

    md.ok(['tag', 'busybox', `${reg.host}/lib/multi:a`]);
    md.ok(['tag', 'busybox', `${reg.host}/lib/multi:b`]);
    const all = md.ok(['push', '-a', `${reg.host}/lib/multi`]);
    assert.match(all, new RegExp(`^a: digest: ${bb.digest} size: \\d+$`, 'm'));
    assert.match(all, new RegExp(`^b: digest: ${bb.digest} size: \\d+$`, 'm'));
    assert.equal(remoteDigest(`${reg.host}/lib/multi:b`), bb.digest);

    const cases: [string[], RegExp][] = [
      [['push', `${reg.host}/lib/none:1`], new RegExp(`^mydocker: An image does not exist locally with the tag: ${esc(reg.host)}/lib/none:1\n$`)],
      [['push', `${reg.host}/lib/bb@${bb.digest}`], /^mydocker: push .*: cannot push a digest reference\n$/],
      [['push', '--insecure-registry', 'not a host', bb.ref], /^mydocker: --insecure-registry: not a host: want host, host:port or a CIDR\n$/],
    ];
    for (const [args, err] of cases) {
      const r = md.run(args);
      assert.equal(r.status, 125, args.join(' '));
      assert.match(r.stderr, err);
    }
  }));

  it('big blobs go up in chunks (PATCH with Content-Range, then PUT), and the registry has the same bytes', async () => {
    const t = testStore('push-chunks');
    try {
      const big = await tarOf([{ name: 'random', data: randomBytes(300 * 1024) }]);
      const img = image([big], { tags: [`${reg.host}/test/chunks:1`] });
      writeFileSync(join(t.dir, 'a.tar'), await dockerArchive([img]));
      await t.store.load(join(t.dir, 'a.tar'));
      const since = reg.requests().length;
      const [r] = await pushImage(t.store, `${reg.host}/test/chunks:1`, { chunkSize: 64 * 1024 });
      const reqs = reg.requests(since).filter((x) => x.agent === 'mydocker');
      const patches = reqs.filter((x) => x.method === 'PATCH');
      assert.equal(patches.length, Math.ceil(big.length / (64 * 1024)), JSON.stringify(reqs));
      assert.equal(remoteDigest(`${reg.host}/test/chunks:1`), r!.digest);
      // The registry serves the layer byte for byte; skopeo reads the image back.
      const res = await fetch(`http://${reg.host}/v2/test/chunks/blobs/${sha(big)}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), big);
      assert.equal(remoteConfig(`${reg.host}/test/chunks:1`), sha(img.config));
      skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/test/chunks:1`, `oci:${join(t.dir, 'oci')}:x`]);
    } finally {
      t.cleanup();
    }
  });

  it('a damaged blob in our store is refused before the registry takes it: no manifest appears', withMydocker(async (md) => {
    md.ok(['run', '--name', 'c2', 'busybox', 'sh', '-c', 'echo x > /x']);
    const ref = `${reg.host}/test/damaged:1`;
    md.ok(['commit', 'c2', ref]);
    const ins = JSON.parse(md.ok(['image', 'inspect', ref]))[0];
    const top = ins.RootFS.Layers[ins.RootFS.Layers.length - 1] as string;
    const path = join(md.root, 'images/blobs/sha256', top.slice(7));
    const bytes = readFileSync(path);
    bytes[600] = bytes[600]! ^ 0xff;
    writeFileSync(path, bytes);
    const r = md.run(['push', ref]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, new RegExp(`^mydocker: push: the store's blob ${top} is damaged .*\n$`));
    const inspect = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
    assert.notEqual(inspect.status, 0);
    assert.match(inspect.stderr, /manifest unknown/);
    md.ok(['rm', 'c2']);
  }));
});
