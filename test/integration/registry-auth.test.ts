// Registries that want credentials: docker-registry behind htpasswd (Basic), and behind token
// auth with a token server of ours (the WWW-Authenticate: Bearer realm/service/scope dance; the
// registry checks the token's signature against a certificate we made with openssl). login
// checks the credentials before filing them (docker's config.json, mode 0600, base64 auth);
// logout forgets them; DOCKER_CONFIG moves the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerArchive, image, tarOf } from '../helpers/images.js';
import { withMydocker } from '../helpers/mydocker.js';
import { busyboxLayer, haveRegistry, runAsync, runTty, skopeoCopy, TestRegistry, TokenServer } from '../helpers/registry.js';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function appArchive(dir: string): Promise<string> {
  const bb = await busyboxLayer();
  const l = await tarOf([{ name: 'secret', data: 'behind auth\n' }]);
  const path = join(dir, 'app.tar');
  writeFileSync(path, await dockerArchive([image([bb, l], { cmd: ['cat', '/secret'] })]));
  return path;
}

describe('registries with credentials', { skip: haveRegistry() ? false : 'docker-registry or skopeo missing' }, () => {
  describe('htpasswd (Basic auth)', () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await TestRegistry.start('basic', { htpasswd: { user: 'alice', password: 's3cret:with-colon' } });
      skopeoCopy(`docker-archive:${await appArchive(reg.dir)}`, `docker://${reg.host}/team/app:1`, ['--dest-creds', 'alice:s3cret:with-colon']);
    });
    after(async () => {
      await reg.stop();
      assert.deepEqual(reg.leftovers(), []);
    });

    it('pull without credentials is refused clearly; a wrong password files nothing; login, pull, push, logout', withMydocker(async (md) => {
      const ref = `${reg.host}/team/app:1`;
      const anon = md.run(['pull', ref]);
      assert.equal(anon.status, 125);
      assert.match(anon.stderr, new RegExp(`^mydocker: pull access denied for ${esc(`${reg.host}/team/app`)}, repository does not exist or may require 'mydocker login': unauthorized: authentication required\n$`));

      const config = join(md.root, 'config.json');
      const wrong = md.run(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'nope\n' });
      assert.equal(wrong.status, 125);
      assert.equal(wrong.stderr, `mydocker: login to ${reg.host}: unauthorized: incorrect username or password\n`);
      assert.equal(existsSync(config), false, 'nothing filed');

      const ok = md.run(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 's3cret:with-colon\n' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, 'Login Succeeded\n');
      assert.match(ok.stderr, new RegExp(`stored unencrypted in ${esc(config)}`));
      assert.equal(statSync(config).mode & 0o777, 0o600);
      const file = JSON.parse(readFileSync(config, 'utf8'));
      assert.equal(file.auths[reg.host].auth, Buffer.from('alice:s3cret:with-colon').toString('base64'));

      assert.match(md.ok(['pull', ref]), /Status: Downloaded newer image/);
      assert.equal(md.ok(['run', '--rm', ref]), 'behind auth\n');
      md.ok(['tag', ref, `${reg.host}/team/copy:2`]);
      assert.match(md.ok(['push', `${reg.host}/team/copy:2`]), /^2: digest: sha256:[0-9a-f]{64} size: \d+$/m);

      assert.equal(md.ok(['logout', reg.host]), `Removing login credentials for ${reg.host}\n`);
      assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')).auths, {});
      assert.equal(md.ok(['logout', reg.host]), `Not logged in to ${reg.host}\n`);
      md.ok(['rmi', ref, `${reg.host}/team/copy:2`]);
      assert.equal(md.run(['pull', ref]).status, 125);
    }));

    it('DOCKER_CONFIG moves the credentials file; other keys of an existing file are kept; a logged-in registry is pulled from by run', withMydocker(async (md) => {
      const dir = mkdtempSync(join(tmpdir(), `mydocker-test-dockercfg-${process.pid}-`));
      try {
        writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'other.example:5000': { auth: Buffer.from('bob:pw').toString('base64') } }, detachKeys: 'ctrl-x' }));
        const env = { DOCKER_CONFIG: dir };
        md.ok(['login', '-u', 'alice', '--password-stdin', `http://${reg.host}/v2/`], { input: 's3cret:with-colon', env });
        const file = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
        assert.deepEqual(Object.keys(file.auths).sort(), ['other.example:5000', reg.host].sort());
        assert.equal(file.detachKeys, 'ctrl-x');
        assert.equal(existsSync(join(md.root, 'config.json')), false);
        const r = md.run(['run', '--rm', `${reg.host}/team/app:1`], { env });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'behind auth\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));

    it('login refuses a terminal-less prompt clearly', withMydocker(async (md) => {
      const r = md.run(['login', reg.host]);
      assert.equal(r.status, 125);
      assert.equal(r.stderr, 'mydocker: login: no terminal to ask on: give --username and --password-stdin\n');
      const tty = runTty(md, ['login', '-u', 'alice', '-p', 'wrong', reg.host]);
      assert.equal(tty.status, 125);
      assert.match(tty.stdout, /Using --password via the CLI is insecure/);
    }));
  });

  describe('token auth (Bearer: realm, service, scope)', () => {
    let reg: TestRegistry;
    let tokens: TokenServer;
    before(async () => {
      tokens = new TokenServer({ carol: 'pa55' });
      await tokens.start();
      reg = await TestRegistry.start('token', { token: tokens });
    });
    after(async () => {
      await reg.stop();
      await tokens.stop();
      assert.deepEqual(reg.leftovers(), []);
    });

    it('login gets a token with the credentials; push and pull ask for the right scopes; a mount asks pull on its source; anonymous pulls are denied', withMydocker(async (md) => {
      const bad = await runAsync(md, ['login', '-u', 'carol', '--password-stdin', reg.host], { input: 'wrong' });
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /^mydocker: token from http:\/\/127\.0\.0\.1:\d+\/token: unauthorized: incorrect username or password\n$/);

      const ok = await runAsync(md, ['login', '-u', 'carol', '--password-stdin', reg.host], { input: 'pa55' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.ok(tokens.requests.some((r) => r.account === 'carol' && r.authenticated), JSON.stringify(tokens.requests));

      // Busybox up to one repository, then a commit on it to another: busybox's layer is mounted.
      assert.equal((await runAsync(md, ['run', '--name', 'c1', 'busybox', 'sh', '-c', 'echo tok > /t'])).status, 0);
      assert.equal((await runAsync(md, ['tag', 'busybox', `${reg.host}/base/bb:1`])).status, 0);
      const p1 = await runAsync(md, ['push', `${reg.host}/base/bb:1`]);
      assert.equal(p1.status, 0, p1.stderr);
      assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:base/bb:pull,push')), JSON.stringify(tokens.requests.map((r) => r.scopes)));
      const c = await runAsync(md, ['commit', 'c1', `${reg.host}/apps/t:1`]);
      assert.equal(c.status, 0, c.stderr);
      const since = reg.requests().length;
      const p2 = await runAsync(md, ['push', `${reg.host}/apps/t:1`]);
      assert.equal(p2.status, 0, p2.stderr);
      assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:apps/t:pull,push') && r.scopes.includes('repository:base/bb:pull')), JSON.stringify(tokens.requests.map((r) => r.scopes)));
      assert.ok(reg.requests(since).some((r) => r.method === 'POST' && r.uri.includes('from=base%2Fbb') && r.status === 201), 'mounted across repositories');

      await runAsync(md, ['rm', 'c1']);
      assert.equal((await runAsync(md, ['rmi', `${reg.host}/apps/t:1`])).status, 0);
      const pull = await runAsync(md, ['pull', `${reg.host}/apps/t:1`]);
      assert.equal(pull.status, 0, pull.stderr);
      assert.ok(tokens.requests.some((r) => r.scopes.length === 1 && r.scopes[0] === 'repository:apps/t:pull'));
      const run = await runAsync(md, ['run', '--rm', `${reg.host}/apps/t:1`, 'cat', '/t']);
      assert.equal(run.stdout, 'tok\n');

      assert.equal((await runAsync(md, ['logout', reg.host])).status, 0);
      await runAsync(md, ['rmi', `${reg.host}/apps/t:1`]);
      const anon = await runAsync(md, ['pull', `${reg.host}/apps/t:1`]);
      assert.equal(anon.status, 125);
      assert.match(anon.stderr, /^mydocker: pull access denied for .*apps\/t, repository does not exist or may require 'mydocker login': unauthorized: authentication required\n$/);
    }));
  });
});
