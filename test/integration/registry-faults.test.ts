// Faults on the way from a registry: a corrupt blob in the registry's storage, a pull killed
// with SIGKILL mid-download, and (from a registry of our own making, to say what a real one
// would not) schema 1, foreign layers, artifacts, wrong sizes and digests, redirects to a
// storage host, 5xx and cut connections, plain HTTP on a non-loopback address. Each refusal is
// one clear error and leaves the store exactly as it was.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/mydocker/errors.js';
import { pullImage } from '../../src/mydocker/registry/pull.js';
import { dockerArchive, image, snapshot, tarOf, testStore } from '../helpers/images.js';
import { withMydocker } from '../helpers/mydocker.js';
import { busyboxLayer, haveRegistry, ociImage, runAsync, sha, skopeoCopy, SlowProxy, TestRegistry, type BuiltImage } from '../helpers/registry.js';

const tempAreas = (root: string) => {
  try {
    return readdirSync(join(root, 'tmp')).filter((n) => /^\.?img-/.test(n));
  } catch {
    return [];
  }
};

describe('pull faults against a real registry', { skip: haveRegistry() ? false : 'docker-registry or skopeo missing' }, () => {
  let reg: TestRegistry;
  let bb: Buffer;
  before(async () => {
    reg = await TestRegistry.start('faults');
    bb = await busyboxLayer();
  });
  after(async () => {
    await reg.stop();
    assert.deepEqual(reg.leftovers(), []);
  });

  it('a corrupt layer or config blob in the registry\'s storage is detected while it streams, and nothing is stored', withMydocker(async (md) => {
    const own = await tarOf([{ name: 'mine', data: randomBytes(64 * 1024) }]);
    const img = image([bb, own], { tags: ['x/corrupt:1'] });
    writeFileSync(join(md.dir, 'c.tar'), await dockerArchive([img]));
    skopeoCopy(`docker-archive:${join(md.dir, 'c.tar')}`, `docker://${reg.host}/x/corrupt:1`);
    const manifest = JSON.parse(Buffer.from(await (await fetch(`http://${reg.host}/v2/x/corrupt/manifests/1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).arrayBuffer()).toString());
    const layer = manifest.layers[1].digest as string;
    const data = reg.blobData(layer);
    const good = readFileSync(data);
    const bad = Buffer.from(good);
    const mid = Math.floor(bad.length / 2);
    bad[mid] = bad[mid]! ^ 0x55;
    writeFileSync(data, bad);
    md.ok(['images']); // the data root exists
    const before = snapshot(new (await import('../../src/mydocker/paths.js')).DataRoot(md.root));
    try {
      const r = md.run(['pull', `${reg.host}/x/corrupt:1`]);
      assert.equal(r.status, 125);
      assert.match(r.stderr, new RegExp(`^mydocker: layer ${layer}: digest mismatch: the registry sent sha256:[0-9a-f]{64} \\(the blob in the registry is corrupt\\)\n$`));
      assert.equal(snapshot(new (await import('../../src/mydocker/paths.js')).DataRoot(md.root)), before, 'the store is as it was');
      assert.deepEqual(tempAreas(md.root), []);
    } finally {
      writeFileSync(data, good);
    }
    // The config, too.
    const cfg = reg.blobData(manifest.config.digest);
    const goodCfg = readFileSync(cfg);
    writeFileSync(cfg, Buffer.from(goodCfg.toString().replace('"amd64"', '"amd65"')));
    try {
      const r = md.run(['pull', `${reg.host}/x/corrupt:1`]);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /config sha256:[0-9a-f]{64}: digest mismatch: the registry sent sha256:/);
      assert.equal(snapshot(new (await import('../../src/mydocker/paths.js')).DataRoot(md.root)), before);
    } finally {
      writeFileSync(cfg, goodCfg);
    }
    assert.match(md.ok(['pull', `${reg.host}/x/corrupt:1`]), /Status: Downloaded newer image/);
  }));

  it('kill -9 in the middle of a download, then the same pull again: it succeeds and leaves no half blob, layer or temp area', withMydocker(async (md) => {
    const big = await tarOf([{ name: 'big', data: randomBytes(6 << 20) }]);
    const small = await tarOf([{ name: 'small', data: 'small\n' }]);
    const img = image([bb, small, big], { tags: ['x/big:1'], cmd: ['cat', '/small'] });
    writeFileSync(join(md.dir, 'b.tar'), await dockerArchive([img]));
    skopeoCopy(`docker-archive:${join(md.dir, 'b.tar')}`, `docker://${reg.host}/x/big:1`);
    const proxy = new SlowProxy(reg.host);
    await proxy.start();
    try {
      proxy.rate = 64 * 1024; // per 20 ms: ~3 MB/s
      const ref = `${proxy.host}/x/big:1`;
      let killedAt = 0;
      const { spawn } = await import('node:child_process');
      const { MYDOCKER, cleanEnv } = await import('../helpers/mydocker.js');
      const child = spawn(process.execPath, [MYDOCKER, '--root', md.root, 'pull', ref], { stdio: 'ignore', env: cleanEnv() });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
      let tmpSeen: string[] = [];
      proxy.onBlobBytes = (_d, n) => {
        if (!killedAt && n >= 1 << 20) {
          killedAt = n;
          tmpSeen = tempAreas(md.root);
          child.kill('SIGKILL');
        }
      };
      assert.equal(await exited, 'SIGKILL');
      assert.ok(killedAt > 0, 'killed mid-download');
      assert.equal(tmpSeen.length, 1, 'its temp area existed when it died');
      proxy.onBlobBytes = null;
      proxy.rate = 0;
      const again = await runAsync(md, ['pull', ref]);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /Status: Downloaded newer image/);
      assert.deepEqual(tempAreas(md.root), [], 'the dead pull\'s temp area is swept');
      const blobs = readdirSync(join(md.root, 'images/blobs/sha256'));
      assert.equal(blobs.length, 2 + 3, blobs.join(' '));
      const layers = readdirSync(join(md.root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
      assert.deepEqual(layers, img.diffIds.map((d) => d.slice(7)).sort());
      assert.equal(md.ok(['run', '--rm', ref]), 'small\n');
    } finally {
      await proxy.stop();
    }
  }));
});

// ------------------------------------------------------------------------------------------
// A registry of our own making: it serves what it is told, the way it is told.

interface Served {
  body: Buffer;
  type: string;
  digestHeader?: string;
}

class FakeRegistry {
  private server: http.Server | null = null;
  host = '';
  readonly manifests = new Map<string, Served>();
  readonly blobs = new Map<string, Buffer>();
  readonly seen: { method: string; url: string; auth: string | undefined }[] = [];
  /** Handle a request first (true: handled). */
  hook: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | null = null;
  basic: { user: string; password: string } | null = null;

  async start(address = '127.0.0.1'): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      if (this.basic) {
        const want = `Basic ${Buffer.from(`${this.basic.user}:${this.basic.password}`).toString('base64')}`;
        if (req.headers.authorization !== want) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
          return;
        }
      }
      if (this.hook?.(req, res)) return;
      const url = req.url ?? '';
      if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url);
      if (m) {
        const s = this.manifests.get(`${m[1]}:${m[2]}`);
        if (!s) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        res.writeHead(200, { 'content-type': s.type, 'docker-content-digest': s.digestHeader ?? sha(s.body), 'content-length': s.body.length }).end(s.body);
        return;
      }
      m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url);
      if (m) {
        const b = this.blobs.get(m[2]!);
        if (!b) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length }).end(b);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, address, resolve));
    const a = this.server.address() as AddressInfo;
    this.host = `${address}:${a.port}`;
  }

  /** Serve an image as repo:tag; returns its manifest's digest. */
  put(repo: string, tag: string, img: BuiltImage, edit?: (m: any) => void, type = 'application/vnd.oci.image.manifest.v1+json'): string {
    this.blobs.set(sha(img.config), img.config);
    img.layers.forEach((l) => this.blobs.set(sha(l), l));
    const m: any = {
      schemaVersion: 2,
      mediaType: type,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(img.config), size: img.config.length },
      layers: img.layers.map((l, i) => ({ mediaType: img.layerMediaTypes[i], digest: sha(l), size: l.length })),
    };
    edit?.(m);
    const body = Buffer.from(JSON.stringify(m));
    this.manifests.set(`${repo}:${tag}`, { body, type });
    return sha(body);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }
}

describe('pull: what a registry should not send', () => {
  let fake: FakeRegistry;
  let img: BuiltImage;
  const t = testStore('pull-faults');
  let empty = '';

  before(async () => {
    fake = new FakeRegistry();
    await fake.start();
    img = ociImage([await tarOf([{ name: 'a', data: 'a' }]), await tarOf([{ name: 'b', data: randomBytes(200 * 1024) }])]);
    empty = snapshot(t.root);
  });
  after(async () => {
    await fake.stop();
    t.cleanup();
  });

  async function refused(ref: string, re: RegExp, opts: Parameters<typeof pullImage>[2] = {}): Promise<void> {
    await assert.rejects(pullImage(t.store, ref, opts), (e: Error) => {
      assert.match(e.message, re);
      assert.equal(e.message.includes('\n'), false, 'one line');
      return true;
    });
    assert.equal(snapshot(t.root), empty, 'nothing stored');
  }

  it('schema 1, foreign layers, artifacts, unknown layer types and nested indexes are refused by name', async () => {
    fake.manifests.set('x/s1:1', { body: Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x/s1', tag: '1', fsLayers: [], history: [] })), type: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    await refused(`${fake.host}/x/s1:1`, /Docker Image Manifest Version 2, Schema 1 .* deprecated and not supported/);
    fake.put('x/foreign', '1', img, (m) => {
      m.layers[0].mediaType = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
      m.layers[0].urls = ['https://example.invalid/layer'];
    });
    await refused(`${fake.host}/x/foreign:1`, /layer sha256:[0-9a-f]{64}: foreign layer \(application\/vnd\.docker\.image\.rootfs\.foreign\.diff\.tar\.gzip\)/);
    fake.put('x/nd', '1', img, (m) => void (m.layers[1].mediaType = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'));
    await refused(`${fake.host}/x/nd:1`, /foreign layer/);
    fake.put('x/art', '1', img, (m) => void (m.config.mediaType = 'application/vnd.cncf.helm.config.v1+json'));
    await refused(`${fake.host}/x/art:1`, /config media type "application\/vnd\.cncf\.helm\.config\.v1\+json": not a container image/);
    fake.put('x/odd', '1', img, (m) => void (m.layers[0].mediaType = 'application/x-something'));
    await refused(`${fake.host}/x/odd:1`, /unsupported layer media type "application\/x-something"/);
    const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    const outer = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(inner), size: inner.length, platform: { os: 'linux', architecture: 'amd64' } }] }));
    fake.manifests.set(`x/nested:${sha(inner)}`, { body: inner, type: 'application/vnd.oci.image.index.v1+json' });
    fake.manifests.set('x/nested:1', { body: outer, type: 'application/vnd.oci.image.index.v1+json' });
    await refused(`${fake.host}/x/nested:1`, /nested indexes are not supported/);
  });

  it('wrong sizes and digests: a manifest digest that is not what the registry says, a blob longer than its descriptor, a blob it does not have', async () => {
    fake.put('x/dig', '1', img);
    fake.manifests.get('x/dig:1')!.digestHeader = sha('other');
    await refused(`${fake.host}/x/dig:1`, /manifest 1: digest mismatch: the registry says sha256:/);
    const d = fake.put('x/dig2', '1', img);
    await refused(`${fake.host}/x/dig2@sha256:${'0'.repeat(64)}`, /manifest for .* not found|digest mismatch/);
    assert.ok(d);
    // The descriptor says fewer bytes than the blob has.
    fake.put('x/long', '1', img, (m) => void (m.layers[1].size -= 100));
    await refused(`${fake.host}/x/long:1`, /the registry sends \d+ bytes, the manifest says \d+/);
    // Same, without a Content-Length to warn us: cut off at the descriptor's size.
    const layer = img.layers[1]!;
    fake.hook = (req, res) => {
      if (req.url?.endsWith(sha(layer))) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(layer);
        return true;
      }
      return false;
    };
    try {
      await refused(`${fake.host}/x/long:1`, /the registry sent more than the manifest's \d+ bytes/);
    } finally {
      fake.hook = null;
    }
    fake.put('x/missing', '1', img, (m) => {
      m.layers[1].digest = sha('not there');
    });
    await refused(`${fake.host}/x/missing:1`, /blob sha256:[0-9a-f]{64}: blob unknown: blob unknown to registry/);
  });

  it('5xx and a connection cut mid-blob are retried; redirects to a storage host are followed without our credentials', async () => {
    const t2 = testStore('pull-retry');
    const storage = http.createServer((req, res) => {
      storageSeen.push(req.headers.authorization);
      const b = fake.blobs.get(req.url!.slice(1));
      res.writeHead(b ? 200 : 404, { 'content-length': b?.length ?? 0 }).end(b);
    });
    const storageSeen: (string | undefined)[] = [];
    await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
    try {
      fake.basic = { user: 'u', password: 'p' };
      fake.put('x/flaky', '1', img);
      const big = sha(img.layers[1]!);
      let fails = 0;
      fake.hook = (req, res) => {
        if (req.url?.endsWith(big) && fails === 0) {
          fails++;
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
          return true;
        }
        if (req.url?.endsWith(big) && fails === 1) {
          fails++;
          const b = fake.blobs.get(big)!;
          res.writeHead(200, { 'content-length': b.length });
          res.write(b.subarray(0, 1000), () => res.socket?.destroy());
          return true;
        }
        if (req.url?.includes('/blobs/')) {
          // Everything else from the storage host.
          const port = (storage.address() as AddressInfo).port;
          res.writeHead(307, { location: `http://localhost:${port}/${req.url.split('/').pop()}` }).end();
          return true;
        }
        return false;
      };
      const r = await pullImage(t2.store, `${fake.host}/x/flaky:1`, { credentials: { username: 'u', password: 'p' } });
      assert.equal(r.id, sha(img.config));
      assert.equal(fails, 2, 'a 503 and a cut connection, both retried');
      assert.ok(storageSeen.length >= 2, 'blobs came from the storage host');
      assert.deepEqual(storageSeen.filter((a) => a !== undefined), [], 'no credentials sent to another host');
      assert.ok(fake.seen.some((s) => s.auth?.startsWith('Basic ')), 'the registry got them');
    } finally {
      fake.hook = null;
      fake.basic = null;
      storage.closeAllConnections();
      await new Promise((r) => storage.close(r));
      t2.cleanup();
    }
  });

  const ownAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  it('plain HTTP on an address that is not loopback only by opt-in (--insecure-registry, daemon.json)', { skip: ownAddress ? false : 'no non-loopback address' }, async () => {
    const plain = new FakeRegistry();
    await plain.start(ownAddress);
    const t3 = testStore('pull-insecure');
    try {
      plain.put('x/y', '1', img);
      await assert.rejects(pullImage(t3.store, `${plain.host}/x/y:1`), (e: Error) => {
        assert.match(e.message, new RegExp(`^GET https://${plain.host.replace(/\./g, '\\.')}/v2/: TLS handshake failed: the server does not speak TLS \\(a plain-HTTP registry\\? allow it with --insecure-registry ${plain.host.replace(/\./g, '\\.')} `));
        return true;
      });
      const r = await pullImage(t3.store, `${plain.host}/x/y:1`, { insecureRegistries: [plain.host] });
      assert.equal(r.id, sha(img.config));
      await t3.store.remove(`${plain.host}/x/y:1`);
      writeFileSync(join(t3.root.lib, 'daemon.json'), JSON.stringify({ 'insecure-registries': [`${ownAddress!.split('.').slice(0, 3).join('.')}.0/24`] }));
      const again = await pullImage(t3.store, `${plain.host}/x/y:1`);
      assert.equal(again.id, sha(img.config));
      writeFileSync(join(t3.root.lib, 'daemon.json'), '{"insecure-registries": "nope"}');
      await assert.rejects(pullImage(t3.store, `${plain.host}/x/y:1`), (e: Error) => e instanceof InputError && /daemon\.json: insecure-registries: want a list/.test(e.message));
    } finally {
      await plain.stop();
      t3.cleanup();
    }
  });
});
