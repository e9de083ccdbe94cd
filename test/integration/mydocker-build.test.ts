// mydocker build, docker's classic builder, on the real kernel: a multi-step Dockerfile whose
// image is then run (output, files, env, user, working directory), multi-stage builds with
// COPY --from and FROM scratch, the build cache (hit, miss on a changed file, --no-cache),
// failing RUNs and bad Dockerfiles (docker's messages and codes, nothing left behind), an
// interrupted build, and hostile contexts (symlinks out of the context, ../, tars with ../ or
// through symlinks) that must never read or write a host file outside the context — checked
// with bait files of our own. podman build is the control for the config and the run output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { havePodman, Podman, waitFor, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';

/** Files (relative path → content) under `dir`. */
function write(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** A gzipped tar of `files` (made by GNU tar, as a user would). */
function tarGz(dest: string, files: Record<string, string>): void {
  const src = `${dest}.src`;
  write(src, files);
  const r = spawnSync('tar', ['-C', src, '-czf', dest, '.']);
  assert.equal(r.status, 0, String(r.stderr));
}

/** Exit 125 with one line on stderr matching `re`. */
function fails125(r: { status: number | null; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 125, `expected 125, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, re);
}

/** Nothing of a build left: no container, no temp area, no mount (the sandbox checks mounts, processes, cgroups too). */
function nothingLeft(md: MydockerSandbox): void {
  assert.deepEqual(md.ids(), [], 'no build container left');
  assert.equal(md.ok(['ps', '-a', '-q']).trim(), '');
  const tmp = join(md.root, 'tmp');
  const left = existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('img-') || n.startsWith('.img-') || n.startsWith('removing-')) : [];
  assert.deepEqual(left, [], 'no temp area left');
}

const NET = ['--network', 'none'];

/** The multi-step Dockerfile (also built by podman as the control). */
const APP_DOCKERFILE = `# syntax=docker/dockerfile:1
# a comment line
FROM busybox
ARG GREETING=hi
ENV APP=/app \\
    MSG="hello world"
RUN echo "$GREETING from run" > /greet && echo run-output-line
WORKDIR $APP
COPY src/ ./src/
ADD files.tar.gz /opt/
RUN chown -R nobody /app
USER nobody
ENTRYPOINT ["sh", "-c"]
CMD ["echo $MSG; cat /greet; ls /app/src; cat /opt/dir/f; id -u; pwd; echo \${GREETING:-unset}"]
`;
const APP_OUTPUT = 'hello world\nhi from run\na.txt\nsub\nintar\n65534\n/app\nunset\n';

function appContext(dir: string): string {
  const ctx = write(join(dir, 'app'), {
    Dockerfile: APP_DOCKERFILE,
    '.dockerignore': '# ignore these\n**/*.key\nsrc/tmp\n!src/tmp/keep\n',
    'src/a.txt': 'A\n',
    'src/secret.key': 'k\n',
    'src/sub/deep.key': 'k\n',
    'src/sub/b.txt': 'B\n',
    'src/tmp/junk': 'j\n',
  });
  tarGz(join(ctx, 'files.tar.gz'), { 'dir/f': 'intar\n' });
  return ctx;
}

describe('mydocker build', () => {
  it(
    'a multi-step Dockerfile: docker\'s steps, then the image runs with its env, user, workdir and files',
    withMydocker(async (md) => {
      const ctx = appContext(md.dir);
      const out = md.ok(['build', '-t', 'app', ...NET, ctx]);
      const steps = [...out.matchAll(/^Step (\d+)\/(\d+) : (.*)$/gm)];
      assert.equal(steps.length, 11, out);
      assert.equal(steps[0]![3], 'FROM busybox');
      assert.ok(steps.every((s, i) => s[1] === String(i + 1) && s[2] === '11'), out);
      assert.match(out, /^Sending build context to Docker daemon {2}\S+B$/m);
      assert.match(out, /^ ---> Running in [0-9a-f]{12}\nrun-output-line\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}$/m);
      const id = /^Successfully built ([0-9a-f]{12})$/m.exec(out)?.[1];
      assert.ok(id, out);
      assert.match(out, /Successfully tagged app:latest\n$/);
      assert.ok(md.ok(['images', '-q', '--no-trunc', 'app']).includes(id));

      assert.equal(md.ok(['run', '--rm', ...NET, 'app']), APP_OUTPUT);
      // .dockerignore: **/*.key and src/tmp are out, src/tmp/keep would be back (it does not exist).
      assert.equal(md.ok(['run', '--rm', ...NET, '--entrypoint', 'find', 'app', '/app/src', '-type', 'f']).split('\n').sort().join(' ').trim(), '/app/src/a.txt /app/src/sub/b.txt');
      // COPY makes root-owned files (the RUN chown changed them after); ADD keeps the archive's modes.
      assert.equal(md.ok(['run', '--rm', ...NET, '--entrypoint', 'stat', 'app', '-c', '%U %a', '/opt/dir/f']).trim(), 'root 644');

      const cfg = JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .Config}}', 'app']));
      assert.deepEqual(cfg.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP=/app', 'MSG=hello world']);
      assert.deepEqual(cfg.Entrypoint, ['sh', '-c']);
      assert.equal(cfg.User, 'nobody');
      assert.equal(cfg.WorkingDir, '/app');
      // History: one row per instruction after FROM; metadata-only ones add no layer.
      const hist = md.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'app']).trim().split('\n');
      assert.equal(hist.length, 10 + 1, hist.join('\n'));
      assert.match(hist[0]!, /^\/bin\/sh -c #\(nop\) {2}CMD \["echo \$MSG;.*"\]\|0B$/);
      assert.match(hist.find((h) => h.includes('RUN') || h.includes('from run'))!, /^\|1 GREETING=hi \/bin\/sh -c echo "\$GREETING from run"/);
      assert.match(hist.find((h) => h.includes(' COPY '))!, /#\(nop\) COPY dir:[0-9a-f]{64} in \/app\/src\/ \|/);
      // docker's history names each step's image where the store has it (the intermediate images).
      const histIds = md.ok(['history', '-q', 'app']).trim().split('\n');
      assert.equal(histIds.length, 11);
      assert.ok(!histIds.includes('<missing>'), histIds.join(' '));
      assert.equal(histIds[0], id);
      const layers = JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'app']));
      const base = JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'busybox']));
      assert.equal(layers.length, base.length + 5, 'RUN, WORKDIR (a new directory), COPY, ADD, RUN: five layers');
      // Intermediate images are docker's: hidden from `images`, listed by `images -a`.
      assert.deepEqual(md.ok(['images', '--format', '{{.Repository}}']).trim().split('\n').sort(), ['app', 'busybox']);
      assert.ok(md.ok(['images', '-a', '-q']).trim().split('\n').length > 5);
      nothingLeft(md);
      // rmi of the image takes its untagged parents (the steps) with it.
      md.ok(['rmi', 'app']);
      assert.deepEqual(md.ok(['images', '-a', '--format', '{{.Repository}}']).trim(), 'busybox');
    }),
  );

  it(
    'multi-stage: COPY --from a stage by name and by index, a FROM scratch stage, --target, --build-arg and global ARGs',
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'ms'), {
        Dockerfile: [
          'ARG BASE=busybox',
          'FROM ${BASE} AS build',
          'ARG VERSION=1',
          'RUN mkdir -p /out && echo "v$VERSION" > /out/version && ln -s version /out/link',
          'FROM scratch AS files',
          'COPY --from=build /out/version /v',
          'FROM $BASE',
          'COPY --from=build /out /dist/',
          'COPY --from=files /v /v2',
          'COPY --chown=nobody:nogroup --from=0 /out/version /owned',
          'CMD cat /dist/version /v2 && readlink /dist/link && stat -c "%u:%g" /owned',
          '',
        ].join('\n'),
      });
      const out = md.ok(['build', '-t', 'ms', '--build-arg', 'VERSION=7', '--build-arg', 'NOBODY=x', ...NET, ctx]);
      assert.match(out, /^\[Warning\] One or more build-args \[NOBODY\] were not consumed$/m);
      assert.equal(md.ok(['run', '--rm', ...NET, 'ms']), 'v7\nv7\nversion\n65534:65534\n');
      // Shell-form CMD runs under /bin/sh -c, as docker writes it.
      assert.deepEqual(JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .Config.Cmd}}', 'ms'])), ['/bin/sh', '-c', 'cat /dist/version /v2 && readlink /dist/link && stat -c "%u:%g" /owned']);
      // --target stops at a stage: the scratch stage is one file and no shell.
      const q = md.ok(['build', '-q', '--target', 'files', '--build-arg', 'VERSION=7', ...NET, ctx]).trim();
      assert.match(q, /^sha256:[0-9a-f]{64}$/);
      const layers = JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', q]));
      assert.equal(layers.length, 1);
      md.ok(['tag', q, 'files']);
      assert.equal(md.ok(['save', 'files']).length > 0, true);
      nothingLeft(md);
    }),
  );

  it(
    'the cache: a rebuild uses it, a changed file misses from its COPY on, a touched one still hits, --no-cache does not look',
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'cache'), {
        Dockerfile: 'FROM busybox\nENV A=1\nRUN echo built > /b\nCOPY f /f\nRUN cat /f\nCMD ["cat", "/f"]\n',
        f: 'one\n',
      });
      const first = md.ok(['build', '-q', '-t', 'c', ...NET, ctx]).trim();
      const second = md.ok(['build', '-t', 'c', ...NET, ctx]);
      assert.equal((second.match(/ ---> Using cache/g) ?? []).length, 5, second);
      assert.ok(!second.includes('Running in'), second);
      assert.match(second, new RegExp(`Successfully built ${first.slice(7, 19)}`));
      // Only the mtime changes: docker's content hash ignores times.
      utimesSync(join(ctx, 'f'), new Date(2001, 1, 1), new Date(2001, 1, 1));
      assert.equal(md.ok(['build', '-q', ...NET, ctx]).trim(), first);
      writeFileSync(join(ctx, 'f'), 'two\n');
      const third = md.ok(['build', '-t', 'c', ...NET, ctx]);
      assert.equal((third.match(/ ---> Using cache/g) ?? []).length, 2, 'ENV and the first RUN hit; COPY and what follows miss');
      assert.match(third, /Step 5\/6 : RUN cat \/f\n ---> Running in [0-9a-f]{12}\ntwo\n/);
      assert.equal(md.ok(['run', '--rm', ...NET, 'c']), 'two\n');
      const nocache = md.ok(['build', '--no-cache', ...NET, ctx]);
      assert.ok(!nocache.includes('Using cache'), nocache);
      nothingLeft(md);
    }),
  );

  it(
    "a failing RUN: docker's message, exit 1, its output shown, nothing left behind",
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'fail'), { Dockerfile: 'FROM busybox\nRUN echo partial > /p\nRUN echo about to fail; exit 3\nCMD ["true"]\n' });
      const r = md.run(['build', '-t', 'bad', ...NET, ctx]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, "The command '/bin/sh -c echo about to fail; exit 3' returned a non-zero code: 3\n");
      assert.match(r.stdout, /Step 3\/4 : RUN echo about to fail; exit 3\n ---> Running in [0-9a-f]{12}\nabout to fail\n$/);
      // Exec form, a missing program: the runtime's 127, in docker's line.
      write(ctx, { Dockerfile: 'FROM busybox\nRUN ["/no/such/program"]\n' });
      const r2 = md.run(['build', ...NET, ctx]);
      assert.equal(r2.status, 1);
      assert.equal(r2.stderr, "The command '/no/such/program' returned a non-zero code: 127\n");
      assert.equal(md.run(['image', 'inspect', 'bad']).status, 125, 'no image tagged');
      nothingLeft(md);
    }),
  );

  it(
    'an interrupted build (SIGINT during a RUN): the step container is killed and removed',
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'int'), { Dockerfile: 'FROM busybox\nRUN echo started; sleep 60\n' });
      const child = md.spawn(['build', ...NET, ctx]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor(() => out.includes('started\n'), 20_000, 'the RUN to start');
        child.kill('SIGINT');
        assert.equal(await exited, 130);
      } finally {
        child.kill('SIGKILL');
      }
      nothingLeft(md);
    }),
  );

  it(
    'bad Dockerfiles and missing things: one line naming the line or the file, exit 125',
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'bad'), { f: 'x' });
      const cases: [string, RegExp][] = [
        ['FROM busybox\nRUN true\nFOO bar\n', /^mydocker: Dockerfile parse error line 3: unknown instruction: FOO$/],
        ['RUN true\n', /^mydocker: Dockerfile parse error line 1: no build stage in current context/],
        ['FROM busybox\nCOPY f\n', /^mydocker: Dockerfile line 2: COPY: COPY requires at least two arguments/],
        ['FROM busybox\nCOPY --nope=1 f /f\n', /^mydocker: Dockerfile parse error line 2: unknown flag: --nope for COPY$/],
        ['FROM busybox\nRUN --mount=type=cache,target=/x true\n', /^mydocker: Dockerfile parse error line 2: RUN --mount: a BuildKit-only flag/],
        ['FROM busybox\nHEALTHCHECK --interval=banana CMD true\n', /^mydocker: Dockerfile line 2: HEALTHCHECK: HEALTHCHECK --interval=banana: time: invalid duration "banana"$/],
        ['FROM busybox\nCOPY nothere /x\n', /^mydocker: COPY failed: file not found in build context or excluded by \.dockerignore: stat nothere: file does not exist$/],
        ['FROM busybox\nADD http://127.0.0.1:1/x /x\n', /^mydocker: Dockerfile line 2: ADD: http:\/\/127\.0\.0\.1:1\/x: ADD from a URL is not supported/],
        ['FROM no-such-image:1\n', /^mydocker: No such image: no-such-image:1 \(FROM on line 1/],
        ['FROM busybox\nENV A="unterminated\n', /unexpected end of statement while looking for matching double-quote/],
        ['FROM busybox\nSHELL /bin/bash -c\n', /^mydocker: Dockerfile line 2: SHELL: SHELL requires the arguments to be in JSON form$/],
      ];
      for (const [text, re] of cases) {
        writeFileSync(join(ctx, 'Dockerfile'), text);
        fails125(md.run(['build', ...NET, ctx]), re);
      }
      fails125(md.run(['build', ...NET, join(md.dir, 'nowhere')]), /unable to prepare context|no such file/);
      fails125(md.run(['build', '-t', 'Bad:Tag:x', ...NET, ctx]), /invalid reference format|invalid/);
      fails125(md.run(['build', '--target', 'nope', ...NET, ctx]), /failed to reach build target nope/);
      nothingLeft(md);
    }),
  );

  it(
    'a hostile context: symlinks out of it and ../ never read a host file; tars with ../ or through symlinks never write outside',
    withMydocker(async (md) => {
      // Bait: a file of ours outside the context, and a directory a tar would like to write into.
      const bait = write(join(md.dir, 'bait'), { 'secret.txt': 'BAIT-SECRET\n' });
      const ctx = join(md.dir, 'hostile');
      write(ctx, { 'ok.txt': 'fine\n', 'dir/in.txt': 'in\n' });
      symlinkSync(join(bait, 'secret.txt'), join(ctx, 'abs-link'));
      symlinkSync('../bait/secret.txt', join(ctx, 'rel-link'));
      symlinkSync(bait, join(ctx, 'dir', 'out-dir'));
      symlinkSync('ok.txt', join(ctx, 'inner-link'));
      const build = (dockerfile: string, tag = 'h') => {
        writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
        return md.run(['build', '-q', '-t', tag, ...NET, ctx]);
      };
      // A symlink source is followed inside the context only: out of it, there is nothing there.
      for (const src of ['abs-link', 'rel-link', 'dir/out-dir/secret.txt', '../bait/secret.txt']) {
        const r = build(`FROM busybox\nCOPY ${src} /x\n`);
        assert.equal(r.status, 125, `${src}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /file not found in build context|forbidden path outside the build context/);
      }
      // A symlink within the context is followed; one inside a copied directory is copied as a symlink.
      assert.equal(build('FROM busybox\nCOPY inner-link /x\nCOPY dir /d\nCMD cat /x; readlink /d/out-dir; ls /d/out-dir/ 2>&1 | head -1\n').status, 0);
      const out = md.ok(['run', '--rm', ...NET, 'h']);
      assert.ok(out.startsWith(`fine\n${bait}\n`), out);
      assert.ok(!out.includes('BAIT-SECRET') && !out.includes('secret.txt'), out);

      // Destinations through the image's own symlinks (absolute, or climbing with ../) stay in its rootfs.
      const dst = build(`FROM busybox\nRUN mkdir -p ${bait} && ln -s ${bait} /hostlink && ln -s ../../../../../../../..${bait} /rellink\nCOPY ok.txt /hostlink/\nCOPY ok.txt /rellink/sub/x.txt\nCMD cat ${bait}/ok.txt ${bait}/sub/x.txt\n`, 'd');
      assert.equal(dst.status, 0, dst.stderr);
      assert.equal(md.ok(['run', '--rm', ...NET, 'd']), 'fine\nfine\n');
      // A dangling one (its target exists on the host, not in the image) is refused, not created anywhere.
      const dangling = build(`FROM busybox\nRUN ln -s ${bait} /hostlink\nCOPY ok.txt /hostlink/\n`);
      assert.equal(dangling.status, 125);
      assert.match(dangling.stderr, /^mydocker: COPY to \/hostlink: \/hostlink is a dangling symlink in the rootfs\n$/);

      // ADD of hostile archives: refused, and nothing lands in the bait directory.
      const mkTar = (name: string, script: string) => {
        const r = spawnSync('sh', ['-c', script], { cwd: md.dir, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        spawnSync('mv', [join(md.dir, name), join(ctx, name)]);
      };
      mkTar('dotdot.tar', `mkdir -p t1/a && echo pwn > t1/pwn && tar -C t1 -cf dotdot.tar --transform 's,^./pwn,../../pwn,' ./a ./pwn`);
      mkTar('through-link.tar', `mkdir -p t2 && ln -s ${bait} t2/l && mkdir -p t3/l && echo pwn > t3/l/pwned && tar -C t2 -cf through-link.tar ./l && tar -C t3 -rf through-link.tar ./l/pwned`);
      for (const t of ['dotdot.tar', 'through-link.tar']) {
        const r = build(`FROM busybox\nADD ${t} /x/\n`);
        assert.equal(r.status, 125, `${t}: ${r.stderr}`);
        assert.match(r.stderr, /escapes|symlink|\.\./, t);
      }
      assert.deepEqual(readdirSync(bait), ['secret.txt']);
      assert.equal(readFileSync(join(bait, 'secret.txt'), 'utf8'), 'BAIT-SECRET\n');
      assert.ok(!existsSync(join(md.dir, 'pwn')) && !existsSync(join(md.root, 'pwn')));
      nothingLeft(md);
    }),
  );

  it(
    'the Dockerfile on stdin, # escape, substitution forms, and the config instructions',
    withMydocker(async (md) => {
      const dockerfile = [
        '# escape=`',
        'FROM busybox',
        'ARG EMPTY=',
        'ENV NAME=world',
        // One ENV substitutes with the environment before it (docker's rule): OLD is the NAME before it.
        'ENV GREETING="hello ${NAME}" `',
        '    SET=${NAME:+yes} UNSET=${NOPE:-fallback} ESC=`$NAME NAME=again OLD=$NAME',
        'LABEL org.example.who="$NAME" other=two',
        'EXPOSE 8080 53/udp',
        'VOLUME ["/data"]',
        'STOPSIGNAL SIGUSR1',
        'SHELL ["/bin/sh", "-ec"]',
        'RUN test "$GREETING" = "hello world" && test "$EMPTY" = ""',
        'WORKDIR rel',
        'WORKDIR sub',
        'ENTRYPOINT echo "$GREETING $SET $UNSET $ESC from $(pwd)"',
        '',
      ].join('\n');
      const id = md.ok(['build', '-q', ...NET, '-'], { input: dockerfile }).trim();
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      const cfg = JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .Config}}', id]));
      assert.deepEqual(cfg.Env.slice(1), ['NAME=again', 'GREETING=hello world', 'SET=yes', 'UNSET=fallback', 'ESC=$NAME', 'OLD=world']);
      assert.deepEqual(cfg.Labels, { 'org.example.who': 'again', other: 'two' });
      assert.deepEqual(cfg.ExposedPorts, { '53/udp': {}, '8080/tcp': {} });
      assert.deepEqual(cfg.Volumes, { '/data': {} });
      assert.equal(cfg.StopSignal, 'SIGUSR1');
      assert.deepEqual(cfg.Shell, ['/bin/sh', '-ec']);
      assert.equal(cfg.WorkingDir, '/rel/sub');
      assert.deepEqual(cfg.Entrypoint, ['/bin/sh', '-ec', 'echo "$GREETING $SET $UNSET $ESC from $(pwd)"']);
      assert.equal(cfg.Cmd, null);
      assert.equal(md.ok(['run', '--rm', ...NET, id]), 'hello world yes fallback $NAME from /rel/sub\n');
      nothingLeft(md);
    }),
  );
});

describe('mydocker build: RUN networks and volumes', () => {
  it(
    "RUN joins docker's default bridge unless --network says otherwise; after VOLUME a RUN's writes there are discarded, a COPY's kept",
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'net'), {
        Dockerfile: 'FROM busybox\nVOLUME /data\nRUN echo ran > /data/r\nCOPY f /data/f\nRUN ls /sys/class/net | sort | tr "\\n" " "; echo\n',
        f: 'copied\n',
      });
      const bridged = md.ok(['build', '--no-cache', '-t', 'v', ctx]);
      assert.match(bridged, /^eth0 lo $/m);
      const none = md.ok(['build', '--no-cache', '--network', 'none', ctx]);
      assert.match(none, /^lo $/m);
      assert.equal(md.ok(['run', '--rm', ...NET, '--entrypoint', 'sh', 'v', '-c', 'cat /data/*']), 'copied\n');
      assert.equal(md.ok(['volume', 'ls', '-q']).trim(), '', 'the step containers\' anonymous volumes are removed with them');
      nothingLeft(md);
    }),
  );
});

describe('mydocker build: HEALTHCHECK', () => {
  it(
    "HEALTHCHECK goes into the image's Healthcheck (docker's nanoseconds) and drives the container's health",
    withMydocker(async (md) => {
      const ctx = write(join(md.dir, 'hc'), { Dockerfile: 'FROM busybox\nHEALTHCHECK --interval=200ms --retries=2 CMD test -e /tmp/ok\nCMD ["sh", "-c", "touch /tmp/ok; sleep 300"]\n' });
      md.ok(['build', '-q', '-t', 'hc', ...NET, ctx]);
      const hc = JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'hc']));
      assert.deepEqual(hc, { Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 200_000_000, Retries: 2 });
      md.ok(['run', '-d', '--name', 'hc1', ...NET, 'hc']);
      await waitFor(() => md.ok(['inspect', '--format', '{{.State.Health.Status}}', 'hc1']).trim() === 'healthy', 15_000, 'healthy');
      md.ok(['rm', '-f', 'hc1']);
    }),
  );
});

describe('mydocker build, podman build as the control', { skip: !havePodman() && 'podman is not installed' }, () => {
  it(
    'the same Dockerfile: the same config (Env, Cmd, Entrypoint, WorkingDir, User) and the same run output',
    withMydocker(async (md) => {
      const ctx = appContext(md.dir);
      md.ok(['build', '-q', '-t', 'app', ...NET, ctx]);
      const p = new Podman();
      try {
        const b = p.run(['build', '--format', 'docker', '-q', '-t', 'app', ...Podman.RUN_DEFAULTS, ctx]);
        assert.equal(b.status, 0, b.stderr);
        const pick = (c: Record<string, unknown>) => ({ Env: c.Env, Cmd: c.Cmd, Entrypoint: c.Entrypoint, WorkingDir: c.WorkingDir, User: c.User });
        const theirs = pick(JSON.parse(p.run(['image', 'inspect', '--format', '{{json .Config}}', 'app']).stdout));
        const ours = pick(JSON.parse(md.ok(['image', 'inspect', '--format', '{{json .Config}}', 'app'])));
        assert.deepEqual(ours, theirs);
        const pr = p.run(['run', '--rm', ...Podman.RUN_DEFAULTS, 'app']);
        assert.equal(pr.status, 0, pr.stderr);
        assert.equal(pr.stdout, APP_OUTPUT);
        assert.equal(md.ok(['run', '--rm', ...NET, 'app']), pr.stdout);
      } finally {
        p.cleanup();
      }
      nothingLeft(md);
    }),
  );
});
