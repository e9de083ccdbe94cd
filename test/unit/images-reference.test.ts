// Image references as docker parses them, and the pure parts of the image store: config
// changes (Dockerfile syntax), resolution in an index, chain ids, compression magic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChanges, words } from '../../src/mydocker/images/config-changes.js';
import { detectCompression } from '../../src/mydocker/images/compression.js';
import { familiarString, formatReference, normalize, parseReference } from '../../src/mydocker/images/reference.js';
import { chainIds, dedupeTopMost, resolveIn } from '../../src/mydocker/images/store.js';
import type { IndexFile } from '../../src/mydocker/images/image-index.js';
import { NotFoundError } from '../../src/mydocker/errors.js';

describe('reference', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app:v1', 'docker.io/user/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost:5000', 'docker.io/library/localhost:5000'],
    ['quay.io/org/app:1.0', 'quay.io/org/app:1.0'],
    ['127.0.0.1:5000/a/b/c', '127.0.0.1:5000/a/b/c:latest'],
    ['my.registry/x__y-z.w', 'my.registry/x__y-z.w:latest'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`],
    ['Registry.Example.com/app', 'Registry.Example.com/app:latest'],
  ];
  for (const [input, full] of cases) {
    it(`${input} → ${full}`, () => assert.equal(formatReference(normalize(input)), full));
  }

  it('splits registry and path', () => {
    const r = parseReference('localhost:5000/team/app:v2');
    assert.deepEqual([r.domain, r.path, r.tag], ['localhost:5000', 'team/app', 'v2']);
    assert.equal(parseReference('busybox').domain, 'docker.io');
  });

  const bad: [string, RegExp][] = [
    ['', /: invalid reference format$/],
    ['Busybox', /invalid reference format: repository name \(library\/Busybox\) must be lowercase/],
    ['busybox:', /: invalid reference format$/],
    ['busybox:-x', /: invalid reference format$/],
    ['bu$ybox', /: invalid reference format$/],
    ['a//b', /: invalid reference format$/],
    ['busybox@sha256:abc', /invalid reference format|digest/],
    [`busybox@md5:${'a'.repeat(64)}`, /unsupported digest algorithm|invalid/],
    ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
    [`x/${'a'.repeat(260)}`, /must not be more than 255 characters/],
    [`busybox:${'t'.repeat(129)}`, /: invalid reference format$/],
  ];
  for (const [input, re] of bad) {
    it(`refuses ${JSON.stringify(input.slice(0, 40))}`, () => assert.throws(() => normalize(input), re));
  }

  it('familiar names as docker shows them', () => {
    assert.equal(familiarString('docker.io/library/busybox:latest'), 'busybox:latest');
    assert.equal(familiarString('docker.io/user/app:v1'), 'user/app:v1');
    assert.equal(familiarString('localhost:5000/app:latest'), 'localhost:5000/app:latest');
    assert.equal(familiarString('docker.io/library/a/b:c'), 'library/a/b:c');
  });
});

describe('config changes', () => {
  it('CMD and ENTRYPOINT: JSON and shell forms', () => {
    assert.deepEqual(applyChanges({}, ['CMD ["sh", "-c", "x"]']).Cmd, ['sh', '-c', 'x']);
    assert.deepEqual(applyChanges({}, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(applyChanges({}, ['ENTRYPOINT ["/bin/top", "-b"]']).Entrypoint, ['/bin/top', '-b']);
    assert.deepEqual(applyChanges({}, ['cmd [not json']).Cmd, ['/bin/sh', '-c', '[not json']);
  });

  it('ENV (both forms, quotes, replacing), LABEL, WORKDIR (relative), USER, EXPOSE, VOLUME, STOPSIGNAL', () => {
    const c = applyChanges({ Env: ['PATH=/bin', 'A=0'], WorkingDir: '/app' }, [
      'ENV A=1 B="two words" C=x\\ y',
      'ENV D the rest of it',
      'LABEL a=b "c d"=e',
      'WORKDIR sub',
      'USER nobody:nogroup',
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'STOPSIGNAL SIGTERM',
    ]);
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=two words', 'C=x y', 'D=the rest of it']);
    assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e' });
    assert.equal(c.WorkingDir, '/app/sub');
    assert.equal(c.User, 'nobody:nogroup');
    assert.deepEqual(Object.keys(c.ExposedPorts!).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
    assert.deepEqual(Object.keys(c.Volumes!).sort(), ['/cache', '/data', '/logs']);
    assert.equal(c.StopSignal, 'SIGTERM');
  });

  it('refuses what is not a supported instruction, with the change named', () => {
    assert.throws(() => applyChanges({}, ['RUN echo']), /--change "RUN echo": RUN is not supported/);
    assert.throws(() => applyChanges({}, ['CMD']), /CMD needs a command/);
    assert.throws(() => applyChanges({}, ['EXPOSE 99999']), /invalid port/);
    assert.throws(() => applyChanges({}, ['ENV A="x']), /unterminated quote/);
    assert.throws(() => words('"a', 'x'), /unterminated/);
  });
});

describe('store helpers', () => {
  const id = (c: string) => `sha256:${c.repeat(64)}`;
  const idx: IndexFile = {
    version: 1,
    images: {
      [id('a')]: { id: id('a'), manifest: id('m'), repoTags: ['docker.io/library/busybox:latest'], repoDigests: [], created: '', size: 0, added: '' },
      [`sha256:ab${'c'.repeat(62)}`]: { id: `sha256:ab${'c'.repeat(62)}`, manifest: id('m'), repoTags: [], repoDigests: [`docker.io/library/x@${id('d')}`], created: '', size: 0, added: '' },
    },
  };
  it('resolves names, digests, full ids and unique prefixes as docker', () => {
    assert.equal(resolveIn(idx, 'busybox').record.id, id('a'));
    assert.equal(resolveIn(idx, 'busybox:latest').byId, false);
    assert.equal(resolveIn(idx, id('a')).byId, true);
    assert.equal(resolveIn(idx, 'a'.repeat(64)).record.id, id('a'));
    assert.equal(resolveIn(idx, 'aaaa').record.id, id('a'));
    assert.equal(resolveIn(idx, 'sha256:abc').record.id, `sha256:ab${'c'.repeat(62)}`);
    assert.equal(resolveIn(idx, `x@${id('d')}`).record.id, `sha256:ab${'c'.repeat(62)}`);
    assert.throws(() => resolveIn(idx, 'a'), /ambiguous image id prefix/);
    assert.throws(() => resolveIn(idx, 'nosuch'), (e) => e instanceof NotFoundError && /No such image: nosuch/.test(e.message));
    assert.throws(() => resolveIn(idx, 'busybox:1'), /No such image: busybox:1/);
    assert.throws(() => resolveIn(idx, 'Bad'), /must be lowercase/);
  });

  it('chain ids and top-most dedupe', () => {
    const d = [id('1'), id('2')];
    const c = chainIds(d);
    assert.equal(c[0], d[0]);
    assert.match(c[1]!, /^sha256:[a-f0-9]{64}$/);
    assert.deepEqual(dedupeTopMost([id('1'), id('2'), id('1')]), [id('2'), id('1')]);
  });

  it('compression by magic bytes', () => {
    assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
    assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])), 'xz');
    assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
    assert.equal(detectCompression(Buffer.from('usr/bin')), 'none');
  });
});
