// Verified TLS, and the CA a user adds with NODE_EXTRA_CA_CERTS.
//
// Node parses NODE_EXTRA_CA_CERTS at every start (~30 ms for a system bundle), so the bins drop
// it in their shebang: the runtime and the CNI programs never speak TLS; mydocker hands it on
// as MYDOCKER_EXTRA_CA_CERTS, which its registry client reads when it opens a verified TLS
// connection. Proof that the user's CA still counts: a registry over HTTPS with a certificate
// from a CA of the test's own, on an address that is not loopback (docker's rule lets
// 127.0.0.0/8 and localhost skip verification): a documentation address (198.51.100.0/24) on a
// bridge of the test's own with no port (this kernel has no dummy links), so that the traffic
// never leaves this machine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerArchive, image, tarOf } from '../helpers/images.js';
import { cleanEnv, MYDOCKER, withMydocker } from '../helpers/mydocker.js';
import { busyboxLayer, haveRegistry, skopeoCopy, TestRegistry } from '../helpers/registry.js';
import { REPO } from '../helpers/runtime.js';

const ADDR = '198.51.100.77';
const LINK = `mdktls${process.pid % 100000}`;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A CA, and a server certificate it signed for `ip`. */
function makeCerts(dir: string, ip: string): { ca: string; certFile: string; keyFile: string } {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=mydocker-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  sh('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${ip}`]);
  writeFileSync(ext, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`);
  sh('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  return { ca, certFile, keyFile };
}

/** mydocker started as a user starts it: the bin itself, through its shebang. */
function viaBin(root: string, args: string[], env: Record<string, string>) {
  const e = { ...cleanEnv(), ...env };
  return spawnSync(MYDOCKER, ['--root', root, ...args], { encoding: 'utf8', env: e, timeout: 120_000 });
}

describe('the bins and NODE_EXTRA_CA_CERTS', () => {
  it('the runtime and CNI bins never read it; node itself would (the control)', () => {
    const env = { ...cleanEnv(), NODE_EXTRA_CA_CERTS: '/nonexistent/mydocker-test-ca.pem' };
    const control = spawnSync(process.execPath, [join(REPO, 'dist/mydocker-runc.js'), '--version'], { encoding: 'utf8', env });
    assert.equal(control.status, 0);
    assert.match(control.stderr, /Ignoring extra certs from `\/nonexistent\/mydocker-test-ca\.pem`/, 'node reads NODE_EXTRA_CA_CERTS at start-up');
    for (const bin of ['mydocker-runc', 'mydocker']) {
      const r = spawnSync(join(REPO, `dist/${bin}.js`), ['--version'], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', `${bin}: no certificate file read at start-up`);
    }
    const ipam = spawnSync(join(REPO, 'dist/mydocker-ipam.js'), [], { encoding: 'utf8', env: { ...env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
    assert.equal(ipam.status, 0, ipam.stdout);
    assert.equal(ipam.stderr, '');
  });
});

describe('a registry over verified TLS', { skip: haveRegistry() ? false : 'docker-registry or skopeo missing' }, () => {
  let dir: string;
  let reg: TestRegistry | undefined;
  let ca: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mydocker-test-tls-'));
    sh('ip', ['link', 'add', LINK, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${ADDR}/32`, 'dev', LINK]);
    sh('ip', ['link', 'set', LINK, 'up']);
    const certs = makeCerts(dir, ADDR);
    ca = certs.ca;
    reg = await TestRegistry.start('tls', undefined, { addr: ADDR, tls: certs });
    const bb = await busyboxLayer();
    const l = await tarOf([{ name: 'greeting', data: 'over TLS\n' }]);
    const archive = join(dir, 'app.tar');
    writeFileSync(archive, await dockerArchive([image([bb, l], { cmd: ['cat', '/greeting'] })]));
    skopeoCopy(`docker-archive:${archive}`, `docker://${reg.host}/team/app:1`, ['--dest-tls-verify=false']);
  });
  after(async () => {
    await reg?.stop();
    spawnSync('ip', ['link', 'del', LINK]);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(reg?.leftovers() ?? [], []);
    assert.equal(spawnSync('ip', ['link', 'show', LINK]).status, 1, 'the dummy link is gone');
  });

  it('an unknown CA is refused by name; the CA in NODE_EXTRA_CA_CERTS is trusted, through the bin as through node', withMydocker((md) => {
    assert.ok(reg);
    const ref = `${reg.host}/team/app:1`;
    const refused = viaBin(md.root, ['pull', ref], {});
    assert.equal(refused.status, 125, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^mydocker: .*${ADDR.replace(/\./g, '\\.')}.*certificate`, 'm'));
    assert.equal(viaBin(md.root, ['images', '-q'], {}).stdout, '', 'nothing stored');

    const pulled = viaBin(md.root, ['pull', ref], { NODE_EXTRA_CA_CERTS: ca });
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.match(pulled.stdout, /Status: Downloaded newer image/);
    assert.equal(md.ok(['run', '--rm', '--network', 'none', ref]), 'over TLS\n');
    md.ok(['rmi', ref]);

    // Node's own reading of the variable (mydocker started as `node dist/mydocker.js`).
    const e = { ...cleanEnv(), NODE_EXTRA_CA_CERTS: ca };
    const direct = spawnSync(process.execPath, [MYDOCKER, '--root', md.root, 'pull', '-q', ref], { encoding: 'utf8', env: e, timeout: 120_000 });
    assert.equal(direct.status, 0, direct.stderr);
    assert.equal(direct.stdout, `${ref}\n`);
  }));
});
