// `version`, `info` and `system prune`: docker's first commands on a new machine, with docker's
// field names for --format, and the cleanup that takes only what nothing uses.
import assert from 'node:assert/strict';
import { cpus, release } from 'node:os';
import { describe, it } from 'node:test';
import { detectLayout } from '../../src/cgroups/layout.js';
import { withMydocker } from '../helpers/mydocker.js';

describe('mydocker version, info, system prune', () => {
  it('version and info: docker\'s layout and --format fields, counts that follow the containers', withMydocker((md) => {
    assert.match(md.ok(['version']), /^Client:\n Version: +0\.1\.0\n[\s\S]*\nServer:\n Engine:\n[\s\S]* mydocker-runc:\n  Version: +0\.1\.0\n[\s\S]* conmon:\n  Version: +\d+\.\d+/);
    assert.equal(md.ok(['version', '--format', '{{.Server.KernelVersion}} {{.Client.Os}}']), `${release()} linux\n`);
    md.ok(['run', '-d', '--network', 'none', '--name', 'up', 'busybox', 'sleep', '60']);
    md.ok(['run', '-d', '--network', 'none', '--name', 'frozen', 'busybox', 'sleep', '60']);
    md.ok(['pause', 'frozen']);
    md.ok(['run', '--network', 'none', '--name', 'done', 'busybox', 'true']);
    const f = md.ok(['info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}} {{.NCPU}} {{.CgroupVersion}} {{.DockerRootDir}}']);
    assert.equal(f, `3 1 1 1 1 ${cpus().length} ${detectLayout().kind === 'v2' ? 2 : 1} ${md.root}\n`);
    const text = md.ok(['info']);
    assert.match(text, /^Server:\n Containers: 3\n  Running: 1\n  Paused: 1\n  Stopped: 1\n Images: 1\n/m);
    assert.match(text, /^ Storage Driver: overlay$/m);
    assert.match(text, /^ Default Runtime: mydocker-runc$/m);
    assert.equal(md.ok(['system', 'info', '--format', '{{.ServerVersion}}']), '0.1.0\n');
    md.ok(['unpause', 'frozen']);
  }));

  it('system prune: stopped containers, unused networks, dangling images, and with --volumes unused anonymous volumes — nothing in use', withMydocker((md) => {
    md.ok(['run', '-d', '--network', 'none', '--name', 'keep', '-v', 'kept-anon:/kept', 'busybox', 'sleep', '60']);
    md.ok(['run', '--network', 'none', '--name', 'gone', '-v', '/scratch', 'busybox', 'true']);
    md.ok(['volume', 'create', 'named']);
    md.ok(['network', 'create', 'unused']);
    md.ok(['commit', 'gone', 'scratch:1']);
    md.ok(['tag', 'scratch:1', 'scratch:2']);
    md.ok(['rmi', 'scratch:1']);
    const out = md.ok(['system', 'prune', '-a', '--volumes']);
    assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n/m);
    assert.match(out, /^Deleted Networks:\nunused\n/m);
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Names}}']), 'keep\n');
    assert.deepEqual(md.ok(['network', 'ls', '--format', '{{.Name}}']).trim().split('\n').sort(), ['bridge', 'host', 'none']);
    assert.deepEqual(md.ok(['volume', 'ls', '-q']).trim().split('\n').sort(), ['kept-anon', 'named'], 'named volumes and those in use stay');
    assert.deepEqual(md.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n'), ['busybox:latest'], '-a: an image no container uses goes, the one in use stays');
  }));

  it('system df and ps -s: sizes of images (shared layers once), writable layers and volumes, and what a prune would reclaim', withMydocker((md) => {
    md.ok(['run', '--name', 'big', '--network', 'none', '-v', 'dfvol:/v', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /x; head -c 5000 /dev/zero > /v/y']);
    md.ok(['run', '-d', '--name', 'up', '--network', 'none', 'busybox', 'sleep', '300']);
    const imageSize = md.ok(['images', '--format', '{{.Size}}']).trim();
    const rows = md.ok(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}']).trim().split('\n');
    assert.equal(rows[0]!.replace(/\|[\d.]+MB\|/, '|SIZE|'), 'Images|1|1|SIZE|0B (0%)');
    assert.equal(rows[1], 'Containers|2|1|100kB|100kB (100%)', 'the stopped one\'s 100 kB are reclaimable');
    assert.equal(rows[2], 'Local Volumes|1|1|5kB|0B (0%)');
    assert.equal(rows[3], 'Build Cache|0|0|0B|0B');
    assert.match(md.ok(['system', 'df']), /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\nImages +1 +1 /);
    assert.match(md.ok(['system', 'df', '-v']), /Containers space usage:\n\nCONTAINER ID +IMAGE +SIZE +STATUS +NAMES\n/);
    const sizes = md.ok(['ps', '-as', '--format', '{{.Names}} {{.Size}}']);
    assert.match(sizes, new RegExp(`^up 0B \\(virtual ${imageSize.replace('.', '\\.')}\\)$`, 'm'));
    assert.match(sizes, /^big 100kB \(virtual [\d.]+MB\)$/m);
    assert.match(md.ok(['ps', '-s']), /NAMES +SIZE\n/);
    md.ok(['rm', '-f', 'big', 'up']);
    md.ok(['volume', 'rm', 'dfvol']);
  }));

  it("docker's management commands: container run/inspect/logs/stop/rm, image tag/history/rm; the built-in image found by name on a fresh root", withMydocker((md) => {
    // Fresh root: busybox is not loaded yet, but naming it finds it (as run would).
    assert.match(md.ok(['image', 'history', 'busybox']), /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n/);
    md.ok(['image', 'tag', 'busybox', 'mine:1']);
    assert.equal(md.ok(['container', 'run', '--rm', '--network', 'none', 'mine:1', 'echo', 'hi']), 'hi\n');
    md.ok(['container', 'run', '-d', '--name', 'mc', '--network', 'none', 'busybox', 'sh', '-c', 'echo logged; sleep 300']);
    assert.equal(md.ok(['container', 'inspect', '--format', '{{.Name}}', 'mc']), '/mc\n');
    assert.match(md.run(['container', 'inspect', 'busybox']).stderr, /No such container: busybox/, 'container inspect looks at containers only');
    assert.equal(md.ok(['container', 'ls', '--format', '{{.Names}}']), 'mc\n');
    md.ok(['container', 'exec', 'mc', 'true']);
    assert.equal(md.ok(['container', 'logs', 'mc']), 'logged\n');
    assert.equal(md.ok(['container', 'stop', '-t', '0', 'mc']), 'mc\n');
    assert.equal(md.ok(['container', 'rm', 'mc']), 'mc\n');
    assert.match(md.ok(['image', 'rm', 'mine:1']), /^Untagged: mine:1$/m);
  }));

  it("ps --filter as docker's: one key's values are alternatives, keys combine; exited, before, since, volume, network", withMydocker((md) => {
    md.ok(['run', '--name', 'f0', '--network', 'none', 'busybox', 'true']);
    assert.equal(md.run(['run', '--name', 'f3', '--network', 'none', '-v', 'fvol:/v', 'busybox', 'sh', '-c', 'exit 3']).status, 3);
    md.ok(['create', '--name', 'fc', '--network', 'none', 'busybox', 'true']);
    const names = (...filters: string[]) => md.ok(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])]).trim().split('\n').filter(Boolean).sort();
    assert.deepEqual(names('status=exited', 'status=created'), ['f0', 'f3', 'fc']);
    assert.deepEqual(names('status=exited', 'name=f3'), ['f3']);
    assert.deepEqual(names('exited=3'), ['f3']);
    assert.deepEqual(names('exited=0'), ['f0']);
    assert.deepEqual(names('before=f3'), ['f0']);
    assert.deepEqual(names('since=f0'), ['f3', 'fc']);
    assert.deepEqual(names('volume=fvol'), ['f3']);
    assert.deepEqual(names('volume=/v'), ['f3']);
    assert.deepEqual(names('network=none'), ['f0', 'f3', 'fc']);
    const bad = md.run(['ps', '--filter', 'color=red']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^mydocker: --filter color=red: unknown filter color/);
    md.ok(['rm', 'f0', 'f3', 'fc']);
    md.ok(['volume', 'rm', 'fvol']);
  }));

  it('prune --filter until= and label=/label!=, and the space it reclaimed', withMydocker((md) => {
    md.ok(['run', '--name', 'keepme', '--network', 'none', '-l', 'keep=yes', 'busybox', 'true']);
    md.ok(['run', '--name', 'dropme', '--network', 'none', 'busybox', 'sh', '-c', 'head -c 50000 /dev/zero > /x']);
    const out = md.ok(['container', 'prune', '-f', '--filter', 'label!=keep']);
    assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: 50kB\n$/);
    assert.equal(md.ok(['ps', '-a', '--format', '{{.Names}}']), 'keepme\n');
    assert.match(md.ok(['container', 'prune', '-f', '--filter', 'until=1h']), /^Deleted Containers:\n\nTotal reclaimed space: 0B\n$/, 'created within the hour: kept');
    md.ok(['container', 'prune', '-f', '--filter', 'label=keep=yes']);
    assert.equal(md.ok(['ps', '-aq']), '');
    md.ok(['volume', 'create', '--label', 'team=a', 'va']);
    md.ok(['volume', 'create', 'vb']);
    md.ok(['volume', 'prune', '-f', '-a', '--filter', 'label=team=a']);
    assert.equal(md.ok(['volume', 'ls', '-q']), 'vb\n');
    md.ok(['volume', 'rm', 'vb']);
    const bad = md.run(['container', 'prune', '-f', '--filter', 'color=red']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^mydocker: --filter color=red: invalid filter "color"/);
    md.ok(['tag', 'busybox', 'spare:1']);
    md.ok(['rmi', 'busybox']);
    assert.match(md.ok(['image', 'prune', '-a', '-f']), /Total reclaimed space: [\d.]+MB\n$/, 'its layer went with the last image');
  }));
});

