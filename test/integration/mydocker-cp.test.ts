// mydocker cp through the CLI: docker's path rules both ways on a running and on an exited
// container, tar streams on stdin/stdout, -L and -a, volumes and bind mounts, and the hostile
// cases — symlinks a container plants to lead a copy-in onto the host, a tar with "../" or
// absolute names, a container symlink to "/" copied out — with bait files of our own (never a
// real system file) checked unchanged. podman cp is the control where its rules are docker's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { havePodman, MYDOCKER, mountsUnder, Podman, waitFor, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';
import { cleanEnv } from '../helpers/runtime.js';

/** What every container here starts with (run by its own shell, so the same running or exited). */
const PREP = [
  'mkdir -p /d/sub /emptydir',
  'echo x > /d/sub/f',
  'echo top > /d/top',
  'echo hello > /file',
  'chmod 640 /file',
  'chown 1234:5678 /file',
  'touch -d "2001-02-03 04:05:06" /file',
  'ln -s /d /dl',
  'ln -s /file /fl',
  'echo old > /tmp/existing',
].join(' && ');

type State = 'running' | 'exited';

/** A container c1 in `state`, prepared by PREP (plus `extra`); its id. */
async function container(md: MydockerSandbox, state: State, extra = '', flags: string[] = []): Promise<string> {
  const script = [PREP, extra].filter(Boolean).join(' && ');
  if (state === 'running') {
    md.ok(['run', '-d', '--name', 'c1', ...flags, 'busybox', 'sh', '-c', `${script} && touch /ready && sleep 1d`]);
    const r = await waitFor(() => md.run(['exec', 'c1', 'test', '-e', '/ready']).status === 0, 20_000, 'the container to be prepared');
    assert.ok(r);
  } else {
    md.ok(['run', '--name', 'c1', ...flags, 'busybox', 'sh', '-c', script]);
  }
  const id = md.ok(['inspect', '-f', '{{.Id}}', 'c1']).trim();
  // An exited container's monitor cleans up (unmounts) on its own: let it finish first.
  if (state === 'exited') await waitFor(() => mountsUnder(md.root).length === 0, 20_000, 'the exited container to be cleaned up');
  return id;
}

/** A path of the container's writable layer on the host: what a copy-in wrote, read without mydocker. */
const upper = (md: MydockerSandbox, id: string, p: string) => join(md.root, 'containers', id, 'upper', p);

/** mydocker with binary stdin/stdout. */
function raw(md: MydockerSandbox, args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [MYDOCKER, '--root', md.root, ...args], { input: input ?? Buffer.alloc(0), env: cleanEnv(), timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Exit 125 with exactly one line on stderr matching `re`. */
function fails(md: MydockerSandbox, args: string[], re: RegExp, input?: Buffer): void {
  const r = raw(md, args, input);
  assert.equal(r.status, 125, `mydocker ${args.join(' ')}: expected 125, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, re);
}

/** The names in a tar (GNU tar's listing). */
function tarNames(tar: Buffer): string[] {
  const r = spawnSync('tar', ['-t'], { input: tar, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').sort();
}

/** A tar built entry by entry (for archives GNU tar would not write). */
async function makeTar(entries: { name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; data?: string }[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => pack.on('end', r));
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}), mode: 0o644 }, e.type === 'file' || !e.type ? (e.data ?? '') : undefined, (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A host tree of our own to copy in: f.txt (0750, 2001, owned 1234:5678), srcdir/{in, deep/y}. */
function hostTree(dir: string): { file: string; srcdir: string } {
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'data\n');
  chmodSync(file, 0o750);
  chownSync(file, 1234, 5678);
  utimesSync(file, new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
  const srcdir = join(dir, 'srcdir');
  mkdirSync(join(srcdir, 'deep'), { recursive: true });
  writeFileSync(join(srcdir, 'in'), 'in\n');
  writeFileSync(join(srcdir, 'deep', 'y'), 'y\n');
  return { file, srcdir };
}

const noRootfsMount = (md: MydockerSandbox, id: string) => assert.deepEqual(mountsUnder(join(md.root, 'containers', id)), [], 'no mount of the stopped container left');

for (const state of ['running', 'exited'] as const) {
  describe(`mydocker cp, ${state} container`, () => {
    it("copy out: docker's path rules (file/dir to missing, existing file, existing dir, /., trailing /, -L)", withMydocker(async (md) => {
      const id = await container(md, state);
      const out = join(md.dir, 'out');
      mkdirSync(out);
      // A file to a missing name: created as that file, content, mode, mtime and owner kept.
      md.ok(['cp', 'c1:/file', join(out, 'new')]);
      const st = lstatSync(join(out, 'new'));
      assert.equal(readFileSync(join(out, 'new'), 'utf8'), 'hello\n');
      assert.equal(st.mode & 0o7777, 0o640);
      assert.equal([st.uid, st.gid].join(':'), '1234:5678');
      assert.equal(st.mtime.toISOString(), '2001-02-03T04:05:06.000Z'); // the container's clock is UTC
      // Over an existing file; into an existing directory under its own name; relative to "/".
      writeFileSync(join(out, 'exists'), 'old');
      md.ok(['cp', 'c1:/file', join(out, 'exists')]);
      assert.equal(readFileSync(join(out, 'exists'), 'utf8'), 'hello\n');
      md.ok(['cp', 'c1:file', out]);
      assert.equal(readFileSync(join(out, 'file'), 'utf8'), 'hello\n');
      // DEST/ that does not exist, and a missing parent: errors, nothing made.
      fails(md, ['cp', 'c1:/file', join(out, 'nodir') + '/'], /no such directory/);
      fails(md, ['cp', 'c1:/file', join(out, 'nope', 'x')], /no such directory: .*nope/);
      assert.ok(!existsSync(join(out, 'nodir')) && !existsSync(join(out, 'nope')));
      // A directory: to a missing name (its contents under that name), into an existing one (as a subdirectory), /. (its contents).
      md.ok(['cp', 'c1:/d', join(out, 'dnew')]);
      assert.deepEqual(readdirSync(join(out, 'dnew')).sort(), ['sub', 'top']);
      mkdirSync(join(out, 'dexists'));
      md.ok(['cp', 'c1:/d', join(out, 'dexists')]);
      assert.deepEqual(readdirSync(join(out, 'dexists')), ['d']);
      assert.equal(readFileSync(join(out, 'dexists', 'd', 'sub', 'f'), 'utf8'), 'x\n');
      mkdirSync(join(out, 'dcontents'));
      md.ok(['cp', 'c1:/d/.', join(out, 'dcontents')]);
      assert.deepEqual(readdirSync(join(out, 'dcontents')).sort(), ['sub', 'top']);
      fails(md, ['cp', 'c1:/d', join(out, 'exists')], /cannot copy a directory to a file/);
      // A final symlink is copied as a symlink; -L copies what it points at, under the link's name.
      md.ok(['cp', 'c1:/dl', join(out, 'dl')]);
      assert.equal(readlinkSync(join(out, 'dl')), '/d');
      md.ok(['cp', '-L', 'c1:/dl', join(out, 'dlL')]);
      assert.ok(lstatSync(join(out, 'dlL')).isDirectory());
      assert.equal(readFileSync(join(out, 'dlL', 'top'), 'utf8'), 'top\n');
      md.ok(['cp', '-L', 'c1:/fl', out]);
      assert.equal(readFileSync(join(out, 'fl'), 'utf8'), 'hello\n');
      assert.ok(lstatSync(join(out, 'fl')).isFile());
      // A trailing "/" follows the symlink (it asserts a directory).
      md.ok(['cp', 'c1:/dl/', join(out, 'dslash')]);
      assert.ok(lstatSync(join(out, 'dslash')).isDirectory());
      fails(md, ['cp', 'c1:/nope', out], /^mydocker: Could not find the file \/nope in container c1$/);
      if (state === 'exited') noRootfsMount(md, id);
    }));

    it("copy in: docker's path rules, owned by root unless -a, modes and mtimes kept", withMydocker(async (md) => {
      const id = await container(md, state);
      const { file, srcdir } = hostTree(md.dir);
      // A file to a missing name, then over an existing file, then into an existing directory.
      md.ok(['cp', file, 'c1:/tmp/new.txt']);
      const st = lstatSync(upper(md, id, 'tmp/new.txt'));
      assert.equal(readFileSync(upper(md, id, 'tmp/new.txt'), 'utf8'), 'data\n');
      assert.equal(st.mode & 0o7777, 0o750);
      assert.equal([st.uid, st.gid].join(':'), '0:0', "docker's rule: root owns what is copied in");
      assert.equal(st.mtime.toISOString(), '2001-02-03T04:05:06.000Z');
      md.ok(['cp', file, 'c1:/tmp/existing']);
      assert.equal(readFileSync(upper(md, id, 'tmp/existing'), 'utf8'), 'data\n');
      md.ok(['cp', '-a', file, 'c1:/emptydir']);
      const kept = lstatSync(upper(md, id, 'emptydir/f.txt'));
      assert.equal([kept.uid, kept.gid].join(':'), '1234:5678', '-a keeps the owner');
      md.ok(['cp', file, 'c1:tmp/rel.txt']); // relative to "/"
      assert.ok(existsSync(upper(md, id, 'tmp/rel.txt')));
      fails(md, ['cp', file, 'c1:/nodir/'], /no such directory/);
      fails(md, ['cp', file, 'c1:/nope/x'], /^mydocker: Could not find the file \/nope in container c1$/);
      // Directories: to a missing name, into an existing directory, /. (contents), onto a file.
      md.ok(['cp', srcdir, 'c1:/newd']);
      assert.deepEqual(readdirSync(upper(md, id, 'newd')).sort(), ['deep', 'in']);
      md.ok(['cp', srcdir, 'c1:/d']);
      assert.equal(readFileSync(upper(md, id, 'd/srcdir/deep/y'), 'utf8'), 'y\n');
      md.ok(['cp', `${srcdir}/.`, 'c1:/d']);
      assert.equal(readFileSync(upper(md, id, 'd/in'), 'utf8'), 'in\n');
      assert.equal(lstatSync(upper(md, id, 'd/deep')).uid, 0);
      fails(md, ['cp', srcdir, 'c1:/file'], /cannot copy a directory to a file/);
      fails(md, ['cp', join(md.dir, 'missing'), 'c1:/tmp'], /missing: no such file or directory/);
      // A host symlink: copied as a symlink, or with -L as what it points at (under the link's name).
      symlinkSync(file, join(md.dir, 'hostlink'));
      md.ok(['cp', join(md.dir, 'hostlink'), 'c1:/tmp/']);
      assert.equal(readlinkSync(upper(md, id, 'tmp/hostlink')), file);
      md.ok(['cp', '-L', join(md.dir, 'hostlink'), 'c1:/emptydir/']);
      assert.equal(readFileSync(upper(md, id, 'emptydir/hostlink'), 'utf8'), 'data\n');
      assert.ok(lstatSync(upper(md, id, 'emptydir/hostlink')).isFile());
      // What the container sees.
      if (state === 'running') assert.equal(md.ok(['exec', 'c1', 'cat', '/d/srcdir/in', '/tmp/new.txt']), 'in\ndata\n');
      else {
        noRootfsMount(md, id);
        md.ok(['start', 'c1']); // the copies are part of its filesystem from now on
      }
    }));

    it('tar streams with "-" both ways; a round trip keeps content, mode and mtime', withMydocker(async (md) => {
      const id = await container(md, state);
      const out = raw(md, ['cp', 'c1:/d', '-']);
      assert.equal(out.status, 0, out.stderr);
      assert.deepEqual(tarNames(out.stdout), ['d/', 'd/sub/', 'd/sub/f', 'd/top']);
      assert.deepEqual(tarNames(raw(md, ['cp', 'c1:/d/.', '-']).stdout), ['sub/', 'sub/f', 'top']);
      assert.deepEqual(tarNames(raw(md, ['cp', 'c1:/file', '-']).stdout), ['file']);
      // The same tar into another directory of the container.
      const back = raw(md, ['cp', '-', 'c1:/emptydir'], out.stdout);
      assert.equal(back.status, 0, back.stderr);
      assert.equal(readFileSync(upper(md, id, 'emptydir/d/sub/f'), 'utf8'), 'x\n');
      fails(md, ['cp', '-', 'c1:/file'], /destination "c1:\/file" must be a directory/, out.stdout);
      fails(md, ['cp', '-', 'c1:/nope'], /Could not find the file \/nope in container c1/, out.stdout);
      // A binary file in and out again: the same bytes, mode and mtime.
      const blob = join(md.dir, 'blob.bin');
      const bytes = randomBytes(300_000);
      writeFileSync(blob, bytes);
      chmodSync(blob, 0o4751);
      utimesSync(blob, new Date('2010-05-06T07:08:09Z'), new Date('2010-05-06T07:08:09Z'));
      md.ok(['cp', blob, 'c1:/tmp/']);
      const rt = join(md.dir, 'roundtrip.bin');
      md.ok(['cp', 'c1:/tmp/blob.bin', rt]);
      assert.ok(readFileSync(rt).equals(bytes));
      assert.equal(statSync(rt).mode & 0o7777, 0o4751);
      assert.equal(statSync(rt).mtime.toISOString(), '2010-05-06T07:08:09.000Z');
      if (state === 'exited') noRootfsMount(md, id);
    }));
  });
}

describe('mydocker cp, hostile containers and archives', () => {
  it('symlinks a container plants never lead a copy-in out of its rootfs', withMydocker(async (md) => {
    // Bait of our own on the host, named by its host path inside the container's symlinks.
    const bait = join(md.dir, 'bait');
    mkdirSync(bait);
    writeFileSync(join(bait, 'secret'), 'untouched\n');
    utimesSync(join(bait, 'secret'), new Date('2000-01-01T00:00:00Z'), new Date('2000-01-01T00:00:00Z'));
    const probe = `cp-probe-${randomBytes(4).toString('hex')}`;
    const id = await container(md, 'running', `ln -s / /tmp/evil && ln -s /etc /tmp/dir && ln -s ${bait} /tmp/hostdir && ln -s ${bait}/secret /tmp/hostfile && ln -s ../../../../../../.. /tmp/up`);
    const src = join(md.dir, probe);
    writeFileSync(src, 'probe\n');
    // Through a symlink to "/": the container's root, not the host's.
    md.ok(['cp', src, `c1:/tmp/evil/x`]);
    assert.equal(readFileSync(upper(md, id, 'x'), 'utf8'), 'probe\n');
    md.ok(['cp', src, 'c1:/tmp/dir/']);
    assert.equal(readFileSync(upper(md, id, `etc/${probe}`), 'utf8'), 'probe\n');
    md.ok(['cp', src, 'c1:/tmp/up/']);
    assert.ok(existsSync(upper(md, id, probe)), '"../.." stops at the container\'s root');
    // Symlinks naming a host path: that path inside the container (missing there: refused).
    fails(md, ['cp', src, 'c1:/tmp/hostdir/'], /Could not find the file|no such directory/);
    fails(md, ['cp', src, 'c1:/tmp/hostfile'], /Could not find the file/);
    fails(md, ['cp', '-', 'c1:/tmp/hostdir'], /Could not find the file/, await makeTar([{ name: 'secret', data: 'pwned\n' }]));
    // Copying a directory through one: lands inside too.
    const dir = join(md.dir, 'pdir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secret'), 'pwned\n');
    md.ok(['cp', `${dir}/.`, 'c1:/tmp/evil']);
    assert.equal(readFileSync(upper(md, id, 'secret'), 'utf8'), 'pwned\n');
    // The host is as it was.
    assert.equal(readFileSync(join(bait, 'secret'), 'utf8'), 'untouched\n');
    assert.equal(statSync(join(bait, 'secret')).mtime.toISOString(), '2000-01-01T00:00:00.000Z');
    assert.deepEqual(readdirSync(bait), ['secret']);
    assert.ok(!existsSync(`/${probe}`) && !existsSync(`/etc/${probe}`) && !existsSync('/x' + probe));
  }));

  it('a tar on stdin with "../", absolute names or a path through a symlink is refused', withMydocker(async (md) => {
    const bait = join(md.dir, 'bait');
    mkdirSync(bait);
    writeFileSync(join(bait, 'secret'), 'untouched\n');
    const id = await container(md, 'running');
    fails(md, ['cp', '-', 'c1:/tmp'], /tar entry "\.\.\/escape": path escapes the destination/, await makeTar([{ name: '../escape', data: 'x' }]));
    fails(md, ['cp', '-', 'c1:/tmp'], /tar entry "\/abs": absolute path/, await makeTar([{ name: '/abs', data: 'x' }]));
    fails(md, ['cp', '-', 'c1:/tmp'], /tar entry "a\/\.\.\/\.\.\/x": path escapes/, await makeTar([{ name: 'a/../../x', data: 'x' }]));
    // A symlink to the bait, then a file through it.
    fails(md, ['cp', '-', 'c1:/tmp'], /link is a symlink \(refusing to write through it\)/, await makeTar([
      { name: 'link', type: 'symlink', linkname: bait },
      { name: 'link/secret', data: 'pwned\n' },
    ]));
    assert.equal(lstatSync(upper(md, id, 'tmp/link')).isSymbolicLink(), true, 'the symlink itself is an ordinary entry');
    assert.ok(!existsSync(upper(md, id, 'escape')) && !existsSync(upper(md, id, 'abs')) && !existsSync(upper(md, id, 'tmp/abs')));
    assert.equal(readFileSync(join(bait, 'secret'), 'utf8'), 'untouched\n');
    assert.deepEqual(readdirSync(bait), ['secret']);
  }));

  it('copy out: a container symlink to "/" stays a symlink, and nothing is written outside DEST', withMydocker(async (md) => {
    const bait = join(md.dir, 'bait');
    mkdirSync(bait);
    writeFileSync(join(bait, 'secret'), 'untouched\n');
    await container(md, 'running', `ln -s / /tmp/evil && mkdir /esc && ln -s ${bait} /esc/l && ln -s ../../../../../.. /esc/up`);
    const out = join(md.dir, 'out');
    mkdirSync(out);
    md.ok(['cp', 'c1:/tmp/evil', out]);
    assert.equal(readlinkSync(join(out, 'evil')), '/');
    md.ok(['cp', 'c1:/esc', out]);
    assert.equal(readlinkSync(join(out, 'esc', 'l')), bait);
    assert.equal(readlinkSync(join(out, 'esc', 'up')), '../../../../../..');
    // The container swaps its symlink for a directory with a file: copying again must not
    // write through the symlink the first copy made on the host.
    md.ok(['exec', 'c1', 'sh', '-c', 'rm /esc/l && mkdir /esc/l && echo pwned > /esc/l/secret']);
    fails(md, ['cp', 'c1:/esc', out], /cannot overwrite non-directory esc\/l with directory/);
    assert.equal(readFileSync(join(bait, 'secret'), 'utf8'), 'untouched\n');
    assert.deepEqual(readdirSync(bait), ['secret']);
    assert.deepEqual(readdirSync(out).sort(), ['esc', 'evil']);
  }));
});

describe('mydocker cp, mounts and errors', () => {
  it('volumes and bind mounts receive a copy-in; :ro, --read-only and tmpfs refuse', withMydocker(async (md) => {
    const bind = join(md.dir, 'bind');
    const ro = join(md.dir, 'ro');
    mkdirSync(bind);
    mkdirSync(ro);
    writeFileSync(join(bind, 'hostfile'), 'from the host\n');
    const { file, srcdir } = hostTree(md.dir);
    const id = await container(md, 'running', '', ['-v', `${bind}:/bind`, '-v', 'vol1:/vol', '-v', `${ro}:/ro:ro`, '--tmpfs', '/tt']);
    md.ok(['cp', file, 'c1:/bind/']);
    assert.equal(readFileSync(join(bind, 'f.txt'), 'utf8'), 'data\n');
    assert.equal(statSync(join(bind, 'f.txt')).uid, 0);
    const volDir = md.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'vol1']).trim();
    md.ok(['cp', srcdir, 'c1:/vol/']);
    assert.equal(readFileSync(join(volDir, 'srcdir', 'deep', 'y'), 'utf8'), 'y\n');
    assert.equal(md.ok(['exec', 'c1', 'cat', '/vol/srcdir/in', '/bind/f.txt']), 'in\ndata\n');
    assert.ok(!existsSync(upper(md, id, 'vol/srcdir')), 'not in the rootfs under the mount point');
    // Out of a bind mount and out of a tree that contains the mounts: the host's files.
    const out = join(md.dir, 'out');
    md.ok(['cp', 'c1:/bind/hostfile', out]);
    assert.equal(readFileSync(out, 'utf8'), 'from the host\n');
    // /etc/hostname is mydocker's file, as the container sees it.
    assert.equal(raw(md, ['cp', 'c1:/etc/hostname', '-']).stdout.includes(id.slice(0, 12)), true);
    fails(md, ['cp', file, 'c1:/ro/'], /mounted volume is marked read-only/);
    fails(md, ['cp', file, 'c1:/ro/x'], /mounted volume is marked read-only/);
    fails(md, ['cp', file, 'c1:/tt/'], /\/tt is on a tmpfs mount/);
    fails(md, ['cp', 'c1:/tt', join(md.dir, 'tt')], /\/tt is on a tmpfs mount/);
    // A copy that would cross a mount point below its destination is refused, not half-written under it.
    const tree = join(md.dir, 'tree');
    mkdirSync(join(tree, 'ro'), { recursive: true });
    writeFileSync(join(tree, 'ro', 'x'), 'x');
    fails(md, ['cp', `${tree}/.`, 'c1:/'], /\/ro is a mount point/);
    assert.deepEqual(readdirSync(ro), []);
    // The volume after the container stopped, and a --read-only container.
    md.ok(['stop', '-t', '0', 'c1']);
    await waitFor(() => mountsUnder(join(md.root, 'containers', id)).length === 0, 20_000, 'the stopped container to be cleaned up');
    md.ok(['cp', file, 'c1:/vol/after-stop']);
    assert.equal(readFileSync(join(volDir, 'after-stop'), 'utf8'), 'data\n');
    noRootfsMount(md, id);
    md.ok(['run', '-d', '--name', 'rofs', '--read-only', '-v', 'vol2:/data', 'busybox', 'sleep', '1d']);
    fails(md, ['cp', file, 'rofs:/tmp/'], /container rootfs is marked read-only/);
    md.ok(['cp', file, 'rofs:/data/']);
    assert.equal(md.ok(['exec', 'rofs', 'cat', '/data/f.txt']), 'data\n');
  }));

  it('errors: exit 125 and one line naming what is wrong; container cp; no line without a terminal, and docker\'s with one', withMydocker(async (md) => {
    const id = await container(md, 'exited');
    const f = join(md.dir, 'f');
    writeFileSync(f, 'f\n');
    fails(md, ['cp', 'nosuch:/x', md.dir], /^mydocker: No such container: nosuch$/);
    fails(md, ['cp', f, 'nosuch:/x'], /^mydocker: No such container: nosuch$/);
    fails(md, ['cp', 'c1:/nope', md.dir], /^mydocker: Could not find the file \/nope in container c1$/);
    fails(md, ['cp', 'c1:/file', 'c1:/x'], /copying between containers is not supported/);
    fails(md, ['cp', f, join(md.dir, 'g')], /must specify at least one container source/);
    fails(md, ['cp', 'c1:', md.dir], /source can not be empty/);
    const one = md.run(['cp', 'c1:/file']);
    assert.equal(one.status, 125);
    assert.match(one.stderr, /missing required argument 'dest'/);
    // `container cp`, and `./a:b` is a local path (docker's rule).
    writeFileSync(join(md.dir, 'a:b'), 'colon\n');
    const r = spawnSync(process.execPath, [MYDOCKER, '--root', md.root, 'container', 'cp', './a:b', 'c1:/tmp/'], { cwd: md.dir, encoding: 'utf8', env: cleanEnv() });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr when it is not a terminal');
    assert.equal(readFileSync(upper(md, id, 'tmp/a:b'), 'utf8'), 'colon\n');
    // On a terminal, docker's line (to stderr); -q silences it.
    const script = (args: string) => spawnSync('script', ['-qec', `${process.execPath} ${MYDOCKER} --root ${md.root} ${args}`, '/dev/null'], { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
    const tty = script(`cp ${f} c1:/tmp/tty`);
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /^Successfully copied \d+(\.\d+)?kB to c1:\/tmp\/tty\r?\n$/);
    assert.equal(script(`cp -q ${f} c1:/tmp/tty`).stdout, '');
    assert.match(script('cp c1:/file -').stdout, /refusing to write an archive to a terminal/);
    noRootfsMount(md, id);
  }));

  it('killed while it holds a stopped container mounted: the next cp, start and rm -f clean up', withMydocker(async (md) => {
    const id = await container(md, 'exited');
    const cdir = join(md.root, 'containers', id);
    const f = join(md.dir, 'f');
    writeFileSync(f, 'f\n');
    md.ok(['cp', f, 'c1:/tmp/']);
    const killed = spawnSync(process.execPath, [MYDOCKER, '--root', md.root, 'cp', f, 'c1:/tmp/k'], { env: cleanEnv({ MYDOCKER_TEST_CRASH_AT: 'cp:mounted' }) });
    assert.equal(killed.signal, 'SIGKILL');
    assert.notDeepEqual(mountsUnder(cdir), [], 'the crash left the rootfs mounted');
    md.ok(['cp', f, 'c1:/tmp/k']);
    assert.deepEqual(mountsUnder(cdir), [], 'the next cp took it down');
    spawnSync(process.execPath, [MYDOCKER, '--root', md.root, 'cp', 'c1:/file', md.dir], { env: cleanEnv({ MYDOCKER_TEST_CRASH_AT: 'cp:mounted' }) });
    // start over the leftover mount (the container's own command fails the second time: not our concern).
    assert.notEqual(md.run(['start', '-a', 'c1']).status, 125);
    await waitFor(() => mountsUnder(cdir).length === 0, 20_000, 'the container to be cleaned up');
    spawnSync(process.execPath, [MYDOCKER, '--root', md.root, 'cp', 'c1:/file', md.dir], { env: cleanEnv({ MYDOCKER_TEST_CRASH_AT: 'cp:mounted' }) });
    assert.notDeepEqual(mountsUnder(cdir), []);
    md.ok(['rm', '-f', 'c1']); // and the sandbox's cleanup checks nothing is left
    assert.deepEqual(mountsUnder(cdir), []);
  }));
});

describe('mydocker cp, podman cp as the control', { skip: !havePodman() && 'podman is not installed' }, () => {
  it('the same trees from the same copies (file into a dir, dir into a dir, dir/., dir to a new name)', withMydocker(async (md) => {
    const { file, srcdir } = hostTree(md.dir);
    const p = new Podman();
    try {
      const prep = 'mkdir -p /d/sub /e /g && echo x > /d/sub/f && touch /ready && sleep 1d';
      const pr = p.run(['run', '-d', '--name', 'c1', ...Podman.RUN_DEFAULTS, 'busybox', '/bin/sh', '-c', prep]);
      assert.equal(pr.status, 0, pr.stderr);
      md.ok(['run', '-d', '--name', 'c1', 'busybox', 'sh', '-c', prep]);
      await waitFor(() => md.run(['exec', 'c1', 'test', '-e', '/ready']).status === 0 && p.run(['exec', 'c1', 'test', '-e', '/ready']).status === 0, 20_000, 'both containers');
      const cases = [
        [file, 'c1:/d'],
        [srcdir, 'c1:/d'],
        [`${srcdir}/.`, 'c1:/e'],
        [srcdir, 'c1:/newdir'],
        [file, 'c1:/g/renamed'],
      ];
      for (const [s, d] of cases) {
        const a = md.run(['cp', s!, d!]);
        const b = p.run(['cp', s!, d!]);
        assert.equal(a.status, 0, a.stderr);
        assert.equal(b.status, 0, b.stderr);
      }
      // Refused by both.
      assert.notEqual(p.run(['cp', srcdir, 'c1:/d/sub/f']).status, 0);
      assert.equal(md.run(['cp', srcdir, 'c1:/d/sub/f']).status, 125);
      assert.notEqual(p.run(['cp', file, 'c1:/nope/x']).status, 0);
      assert.equal(md.run(['cp', file, 'c1:/nope/x']).status, 125);
      const list = 'find /d /e /g /newdir | sort';
      const theirs = p.run(['exec', 'c1', 'sh', '-c', list]);
      assert.equal(theirs.status, 0, theirs.stderr);
      assert.equal(md.ok(['exec', 'c1', 'sh', '-c', list]), theirs.stdout);
    } finally {
      p.cleanup();
    }
  }));
});
