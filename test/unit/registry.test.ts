// The registry side's pure parts: which registries are insecure or pulled from by run,
// docker's config.json, WWW-Authenticate challenges, platforms and index entries, docker's
// progress text.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseChallenges } from '../../src/mydocker/registry/auth.js';
import { credentialsPath, readCredentials, removeCredentials, saveCredentials, serverKey } from '../../src/mydocker/registry/credentials.js';
import { apiHost, authKey, autoPullAllowed, isInsecure, isLoopback, loadSettings, splitHostPort } from '../../src/mydocker/registry/hosts.js';
import { formatPlatform, matches, parsePlatform, pickManifest } from '../../src/mydocker/registry/platform.js';
import { progressText } from '../../src/mydocker/registry/progress.js';
import { humanSize } from '../../src/mydocker/units.js';
import type { Descriptor } from '../../src/mydocker/images/manifest.js';

const dir = mkdtempSync(join(tmpdir(), `mydocker-unit-registry-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('registry hosts', () => {
  const none = { insecure: [], maxConcurrentDownloads: 3, maxConcurrentUploads: 5 };
  it('loopback registries are insecure (plain HTTP allowed); others only when listed, by host, host:port or CIDR', () => {
    for (const d of ['localhost:5000', 'localhost', '127.0.0.1:5000', '127.9.9.9', '[::1]:5000']) assert.equal(isInsecure(d, none), true, d);
    for (const d of ['docker.io', 'registry.example.com', '10.1.2.3:5000', '[fe80::1]:5000']) assert.equal(isInsecure(d, none), false, d);
    const s = { ...none, insecure: ['reg.lan:5000', 'other.lan', '10.0.0.0/8'] };
    assert.equal(isInsecure('reg.lan:5000', s), true);
    assert.equal(isInsecure('reg.lan:5001', s), false);
    assert.equal(isInsecure('other.lan:443', s), true);
    assert.equal(isInsecure('10.200.1.1:5000', s), true);
    assert.equal(isInsecure('11.0.0.1:5000', s), false);
  });
  it('docker.io means registry-1.docker.io and its credentials key; host:port splits, IPv6 too', () => {
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(authKey('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(apiHost('quay.io'), 'quay.io');
    assert.deepEqual(splitHostPort('[::1]:5000'), { host: '::1', port: '5000' });
    assert.deepEqual(splitHostPort('a.b:1'), { host: 'a.b', port: '1' });
    assert.equal(isLoopback('LOCALHOST'), true);
    assert.equal(isLoopback('128.0.0.1'), false);
  });
  it('run pulls only from registries reachable here: loopback, listed, logged in', () => {
    assert.equal(autoPullAllowed('127.0.0.1:5000', none, false), true);
    assert.equal(autoPullAllowed('docker.io', none, false), false);
    assert.equal(autoPullAllowed('docker.io', none, true), true);
    assert.equal(autoPullAllowed('reg.lan:5000', { ...none, insecure: ['reg.lan:5000'] }, false), true);
  });
  it('daemon.json: docker\'s keys, checked', () => {
    const lib = mkdtempSync(join(dir, 'lib-'));
    assert.deepEqual(loadSettings(lib), none);
    writeFileSync(join(lib, 'daemon.json'), JSON.stringify({ 'insecure-registries': ['a:1'], 'max-concurrent-downloads': 6 }));
    assert.deepEqual(loadSettings(lib, ['b']), { insecure: ['a:1', 'b'], maxConcurrentDownloads: 6, maxConcurrentUploads: 5 });
    writeFileSync(join(lib, 'daemon.json'), JSON.stringify({ 'max-concurrent-downloads': 0 }));
    assert.throws(() => loadSettings(lib), /daemon\.json: max-concurrent-downloads: want an integer from 1 to 64 \(got 0\)/);
    writeFileSync(join(lib, 'daemon.json'), '{');
    assert.throws(() => loadSettings(lib), /daemon\.json: not valid JSON/);
    writeFileSync(join(lib, 'daemon.json'), JSON.stringify({ 'insecure-registries': ['10.0.0.0/33'] }));
    assert.throws(() => loadSettings(lib), /10\.0\.0\.0\/33: not an IPv4 CIDR/);
  });
});

describe('credentials (docker config.json)', () => {
  it('server arguments as docker files them', () => {
    assert.equal(serverKey(undefined), 'https://index.docker.io/v1/');
    assert.equal(serverKey('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(serverKey('https://index.docker.io/v1/'), 'https://index.docker.io/v1/');
    assert.equal(serverKey('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
    assert.equal(serverKey('reg.lan:5000'), 'reg.lan:5000');
  });
  it('DOCKER_CONFIG, else the data root', () => {
    assert.equal(credentialsPath('/var/lib/mydocker', {}), '/var/lib/mydocker/config.json');
    assert.equal(credentialsPath('/var/lib/mydocker', { DOCKER_CONFIG: '/home/u/.docker' }), '/home/u/.docker/config.json');
  });
  it('saved with mode 0600 as base64 "user:password", other keys kept, found by host whatever the key\'s form, removed', () => {
    const file = join(dir, 'cfg', 'config.json');
    saveCredentials(file, 'reg.lan:5000', { username: 'u', password: 'p:w' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(raw.auths['reg.lan:5000'].auth, Buffer.from('u:p:w').toString('base64'));
    writeFileSync(file, JSON.stringify({ ...raw, auths: { ...raw.auths, 'https://other.lan/v1/': { auth: Buffer.from('o:x').toString('base64') } }, credsStore: 'desktop' }));
    assert.deepEqual(readCredentials(file, 'other.lan'), { username: 'o', password: 'x' });
    assert.deepEqual(readCredentials(file, 'reg.lan:5000'), { username: 'u', password: 'p:w' });
    assert.equal(readCredentials(file, 'nope'), undefined);
    assert.equal(removeCredentials(file, 'other.lan'), true);
    assert.equal(removeCredentials(file, 'other.lan'), false);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).credsStore, 'desktop');
    writeFileSync(file, '[1]');
    assert.throws(() => readCredentials(file, 'x'), /config\.json: not a docker config file/);
  });
});

describe('WWW-Authenticate', () => {
  it('bearer and basic challenges, quoted values with commas, several in one header', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' } },
    ]);
    assert.deepEqual(parseChallenges(['Basic realm="Registry Realm"', 'Bearer realm="x", error="insufficient_scope"']), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'x', error: 'insufficient_scope' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="a\\"b", Bearer realm=tok'), [
      { scheme: 'basic', params: { realm: 'a"b' } },
      { scheme: 'bearer', params: { realm: 'tok' } },
    ]);
    assert.deepEqual(parseChallenges(undefined), []);
  });
});

describe('platforms', () => {
  it('parses docker\'s --platform with aliases and arm64\'s default variant', () => {
    assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(parsePlatform('linux/arm/7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.throws(() => parsePlatform('amd64'), /--platform amd64: want os\/arch\[\/variant\]/);
    assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }), 'linux/arm/v6');
  });
  it('picks the matching entry of an index, a variant asked for must match', () => {
    const d = (architecture: string, variant?: string): Descriptor => ({ mediaType: 'm', digest: `${architecture}${variant ?? ''}`, size: 1, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
    const entries = [d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8'), d('amd64'), { mediaType: 'm', digest: 'att', size: 1, platform: { os: 'unknown', architecture: 'unknown' } }];
    assert.equal(pickManifest(entries, parsePlatform('linux/amd64'), false)?.digest, 'amd64');
    assert.equal(pickManifest(entries, parsePlatform('linux/arm64'), true)?.digest, 'arm64v8');
    assert.equal(pickManifest(entries, parsePlatform('linux/arm/v7'), true)?.digest, 'armv7');
    assert.equal(pickManifest(entries, parsePlatform('linux/s390x'), true), undefined);
    assert.equal(matches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' }), false);
  });
});

describe('progress text', () => {
  it('sizes and bars as docker prints them', () => {
    assert.equal(humanSize(527), '527B');
    assert.equal(humanSize(2_365_000), '2.365MB');
    assert.equal(humanSize(45_600), '45.6kB');
    assert.equal(progressText({ current: 1_000_000, total: 4_000_000 }, 80), '     1MB/4MB');
    assert.equal(progressText({ current: 2_000_000, total: 4_000_000 }, 120), `[${'='.repeat(25)}>${' '.repeat(25)}]      2MB/4MB`);
    assert.equal(progressText({ current: 5, total: 0 }, 80), '      5B');
  });
});
