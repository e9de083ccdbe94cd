// mydocker's image verbs through the CLI, as a user types them: import of the book's busybox
// tarball, load/save round trips with podman and skopeo, tag/rmi/history/inspect, export, and
// commit (the book's `commit bird myimage`) — plus terminals (`run -ti sh`) under a real pty.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { havePodman, MYDOCKER, Podman, waitFor, withMydocker } from '../helpers/mydocker.js';
import { cleanEnv, ROOTFS } from '../helpers/runtime.js';

function tarOf(dir: string, out: string, compress = ''): void {
  const r = spawnSync('tar', [`-c${compress}f`, out, '-C', dir, '.']);
  assert.equal(r.status, 0, String(r.stderr));
}

describe('mydocker images from the CLI', () => {
  it("import: the book's busybox.tar (and .tar.gz, and stdin) becomes a runnable image", withMydocker((md) => {
    const tar = join(md.dir, 'busybox.tar');
    tarOf(ROOTFS, tar);
    const id = md.ok(['import', tar, 'bookbox']).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(md.ok(['run', '--rm', 'bookbox', 'echo', 'imported']), 'imported\n');
    tarOf(ROOTFS, join(md.dir, 'bb.tgz'), 'z');
    md.ok(['import', '-c', 'CMD ["echo","from-change"]', join(md.dir, 'bb.tgz'), 'gzbox:v1']);
    assert.equal(md.ok(['run', '--rm', 'gzbox:v1']), 'from-change\n');
    const viaStdin = spawnSync('sh', ['-c', `cat ${tar} | ${process.execPath} ${MYDOCKER} --root ${md.root} import - stdinbox`], { encoding: 'utf8', env: cleanEnv() });
    assert.equal(viaStdin.status, 0, viaStdin.stderr);
    assert.match(md.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /stdinbox:latest/);
    const bad = md.run(['import', join(md.dir, 'nope.tar')]);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /nope\.tar/);
    writeFileSync(join(md.dir, 'junk.tar'), 'this is not a tar archive at all, just text\n'.repeat(50));
    const junk = md.run(['import', join(md.dir, 'junk.tar'), 'junk']);
    assert.equal(junk.status, 125);
    assert.equal(junk.stderr.trim().split('\n').length, 1);
    assert.doesNotMatch(md.ok(['images', '--format', '{{.Repository}}']), /junk/);
  }));

  it('images, tag, history, inspect, rmi with docker\'s messages and conflicts', withMydocker((md) => {
    md.ok(['run', '--rm', 'busybox', 'true']); // loads the embedded image
    md.ok(['tag', 'busybox', 'mybox:1.0']);
    const table = md.ok(['images']);
    assert.match(table, /^REPOSITORY {3}TAG {7}IMAGE ID {7}CREATED {3,}SIZE$/m);
    assert.match(table, /^busybox {3,}latest {3,}[0-9a-f]{12} /m);
    assert.match(table, /^mybox {3,}1\.0 {3,}[0-9a-f]{12} /m);
    assert.equal(md.ok(['images', '-q']).trim().split('\n').length, 1, 'one image, two names');
    assert.match(md.ok(['history', 'mybox:1.0']), /^IMAGE {10}CREATED/);
    assert.equal(md.ok(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', 'mybox:1.0']), `linux/${process.arch === 'x64' ? 'amd64' : process.arch}\n`);
    md.ok(['create', '--name', 'user', 'mybox:1.0', 'true']);
    const conflict = md.run(['rmi', 'busybox']);
    assert.equal(conflict.status, 0, 'untagging one of two names is fine'); // docker: Untagged
    assert.match(conflict.stdout, /Untagged: busybox:latest/);
    const inUse = md.run(['rmi', 'mybox:1.0']);
    assert.equal(inUse.status, 125);
    assert.match(inUse.stderr, /conflict: unable to remove repository reference "mybox:1\.0" \(must force\) - container [0-9a-f]{12} is using its referenced image/);
    md.ok(['rm', 'user']);
    assert.match(md.ok(['rmi', 'mybox:1.0']), /Deleted: sha256:/);
    const missing = md.run(['rmi', 'nosuchimage']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /No such image: nosuchimage/);
  }));

  it('save → podman load and skopeo inspect; podman save → mydocker load', withMydocker((md) => {
    md.ok(['run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo layered > /layer.txt']);
    md.ok(['commit', 'maker', 'roundtrip:v1']);
    const archive = join(md.dir, 'rt.tar');
    md.ok(['save', '-o', archive, 'roundtrip:v1']);
    const sk = spawnSync('skopeo', ['inspect', `docker-archive:${archive}`], { encoding: 'utf8' });
    assert.equal(sk.status, 0, sk.stderr);
    assert.equal(JSON.parse(sk.stdout).Layers.length, 2);
    if (!havePodman()) return;
    const p = new Podman();
    try {
      const l = p.run(['load', '-i', archive]);
      assert.equal(l.status, 0, l.stderr);
      const run = p.run(['run', '--rm', ...Podman.RUN_DEFAULTS, 'docker.io/library/roundtrip:v1', 'cat', '/layer.txt']);
      assert.equal(run.stdout, 'layered\n', run.stderr);
      const back = join(md.dir, 'from-podman.tar');
      assert.equal(p.run(['save', '-o', back, 'docker.io/library/roundtrip:v1']).status, 0);
      md.ok(['rmi', '-f', 'roundtrip:v1']);
      md.ok(['rm', 'maker']);
      assert.match(md.ok(['load', '-i', back]), /Loaded image: roundtrip:v1/);
      assert.equal(md.ok(['run', '--rm', 'roundtrip:v1', 'cat', '/layer.txt']), 'layered\n');
    } finally {
      p.cleanup();
    }
  }));

  it("the book: run -d --name bird top, commit bird myimage, run myimage", withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'bird', 'top']);
    md.ok(['exec', 'bird', 'sh', '-c', 'echo nest > /nest.txt']);
    const id = md.ok(['commit', 'bird', 'myimage']).trim();
    assert.match(id, /^sha256:/);
    assert.equal(md.state('bird').Status, 'running', 'commit pauses and resumes the container');
    assert.equal(md.ok(['run', '--rm', 'myimage', 'cat', '/nest.txt']), 'nest\n');
    // The committed image keeps the container's command, as docker's commit does.
    assert.deepEqual(JSON.parse(md.ok(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'myimage'])), ['top']);
    md.ok(['rm', '-f', 'bird']);
  }));

  it('export: the container filesystem as a tar, running or stopped, volumes excluded', withMydocker((md) => {
    const vol = join(md.dir, 'hostvol');
    mkdirSync(vol);
    writeFileSync(join(vol, 'hostfile'), 'host');
    md.ok(['run', '--name', 'ex', '-v', `${vol}:/mnt/vol`, 'busybox', 'sh', '-c', 'echo exported > /proof']);
    const out = join(md.dir, 'fs.tar');
    md.ok(['export', '-o', out, 'ex']);
    const list = spawnSync('tar', ['tf', out], { encoding: 'utf8' }).stdout;
    assert.match(list, /^\.?\/?proof$/m);
    assert.match(list, /^\.?\/?bin\/busybox$/m);
    assert.doesNotMatch(list, /hostfile/);
    assert.ok(existsSync(join(vol, 'hostfile')));
  }));
});

describe('mydocker with a terminal (under script(1), a real pty)', () => {
  const script = (md: { root: string }, args: string, input: string) =>
    spawnSync('script', ['-qec', `${process.execPath} ${MYDOCKER} --root ${md.root} ${args}`, '/dev/null'], { encoding: 'utf8', input, env: cleanEnv(), timeout: 60_000 });

  it('the book: run -ti sh — a shell on a terminal, its exit status ours', withMydocker((md) => {
    const r = script(md, 'run -ti sh', 'echo "in a $(tty)"; exit 3\n');
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /in a \/dev\/pts\/0/);
  }));

  it('exec -it into a running container', withMydocker(async (md) => {
    md.ok(['run', '-d', '--name', 'tt', 'busybox', 'sleep', '60']);
    const r = script(md, 'exec -it tt sh', 'tty; exit 4\n');
    assert.equal(r.status, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    await waitFor(() => md.state('tt').Running, 5000, 'still running');
  }));

  it('-it without a terminal on stdin is refused, as docker does', withMydocker((md) => {
    const r = md.run(['run', '-it', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /not a TTY/);
  }));
});

describe('mydocker: network modes', () => {
  it('the default is the bridge network (eth0); none has lo only; host is the host\'s own namespace', withMydocker((md) => {
    assert.deepEqual(md.ok(['run', '--rm', 'busybox', 'ls', '/sys/class/net']).trim().split('\n').sort(), ['eth0', 'lo']);
    assert.equal(md.ok(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']).trim(), 'lo');
    // --network host: the host's own network namespace (the same inode), not a copy of it.
    const hostNs = readlinkSync('/proc/self/ns/net');
    assert.equal(md.ok(['run', '--rm', '--network', 'host', 'busybox', 'readlink', '/proc/self/ns/net']).trim(), hostNs);
    assert.notEqual(md.ok(['run', '--rm', 'busybox', 'readlink', '/proc/self/ns/net']).trim(), hostNs);
    const p = md.run(['run', '--rm', '--network', 'none', '-p', '8080:80', 'busybox', 'true']);
    assert.equal(p.status, 125);
    assert.match(p.stderr, /-p\/--publish: .*--network none/);
    assert.equal(md.ids().length, 0);
  }));
});
