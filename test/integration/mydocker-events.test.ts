// `mydocker events`, docker's: the journal every mydocker process appends to (container,
// image, volume and network events in docker's shape and order), read back with --since/--until,
// docker's filters and --format, and followed live (SIGTERM ends it with 0). No daemon: a
// detached container's die is written by conmon's cleanup command, concurrent writers must
// never tear a line, and the journal is bounded (rotated once to events.log.1).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/runtime.js';
import type { EventMessage } from '../../src/mydocker/events/read.js';
import { cleanEnv, havePodman, Podman, waitFor, withMydocker, type MydockerSandbox } from '../helpers/mydocker.js';

const NONE = ['--network', 'none'];

/** An event as the tests read it back: the journal's message, with the line it was printed as. */
type Ev = Omit<EventMessage, 'raw'> & { line: string };

const parse = (line: string): Ev => {
  const e = JSON.parse(line) as Ev;
  e.timeNano = BigInt(/"timeNano":(\d+)/.exec(line)![1]!);
  e.line = line;
  return e;
};

/** Every past event (up to now) through `events --format '{{json .}}'`, with more flags. */
function events(md: MydockerSandbox, ...flags: string[]): Ev[] {
  const out = md.ok(['events', '--since', '0', '--until', '0s', '--format', '{{json .}}', ...flags]);
  return out.split('\n').filter(Boolean).map(parse);
}

/** A container's events as "action" or "action key=value" for the attributes asked. */
function actionsOf(md: MydockerSandbox, ref: string, ...attrs: string[]): string[] {
  return events(md, '--filter', `container=${ref}`).map((e) => [e.Action, ...attrs.filter((a) => a in e.Actor.Attributes).map((a) => `${a}=${e.Actor.Attributes[a]}`)].join(' '));
}

const journal = (md: MydockerSandbox) => join(md.root, 'run', 'events.log');

/** True once process `pid` has `path` open (the journal: a follower without --since is then reading). */
function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** A background `events` process and what it printed so far. */
function follower(md: MydockerSandbox, args: string[], env: Record<string, string> = {}) {
  const child = md.spawn(['events', ...args], env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, lines: () => out.split('\n').filter(Boolean), stderr: () => err, exited };
}

async function stop(f: { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null }> }) {
  f.child.kill('SIGTERM');
  return f.exited;
}

describe('mydocker events', { concurrency: false }, () => {
  it(
    "a container's life in order: create, attach, start, die with its exit code, destroy — docker's shape",
    withMydocker(async (md) => {
      const r = md.run(['run', '--name', 'life', ...NONE, '-l', 'tier=web', 'busybox', 'sh', '-c', 'exit 3']);
      assert.equal(r.status, 3, r.stderr);
      const id = md.ok(['inspect', '--format', '{{.Id}}', 'life']).trim();
      md.ok(['rm', 'life']);
      const evs = events(md, '--filter', 'container=life');
      assert.deepEqual(evs.map((e) => e.Action), ['create', 'attach', 'start', 'die', 'destroy']);
      for (const e of evs) {
        assert.equal(e.Type, 'container');
        assert.equal(e.status, e.Action);
        assert.equal(e.id, id);
        assert.equal(e.from, 'busybox');
        assert.equal(e.scope, 'local');
        assert.equal(e.Actor.ID, id);
        assert.equal(e.Actor.Attributes.name, 'life');
        assert.equal(e.Actor.Attributes.image, 'busybox');
        assert.equal(e.Actor.Attributes.tier, 'web', 'container labels are attributes');
        assert.equal(BigInt(e.time), e.timeNano / 1_000_000_000n);
      }
      assert.equal(evs[3]!.Actor.Attributes.exitCode, '3');
      for (let i = 1; i < evs.length; i++) assert.ok(evs[i]!.timeNano > evs[i - 1]!.timeNano, 'times increase');
      // docker's default line: TIME TYPE ACTION ID (sorted attributes)
      const pretty = md.ok(['events', '--since', '0', '--until', '0s', '--filter', 'event=die']).trim();
      assert.match(pretty, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container die ${id} \\(exitCode=3, image=busybox, name=life, tier=web\\)$`));
      // run --rm: the die is recorded by the removal, before the destroy.
      md.ok(['run', '--rm', '--name', 'gone', ...NONE, 'busybox', 'true']);
      assert.deepEqual(actionsOf(md, 'gone', 'exitCode'), ['create', 'attach', 'start', 'die exitCode=0', 'destroy']);
    }),
  );

  it(
    "podman as the control: a container's life gives the same events in the same order (podman's died/remove are docker's die/destroy)",
    { skip: !havePodman() && 'podman is not installed' },
    withMydocker(async (md) => {
      const podman = new Podman();
      let control: string[];
      try {
        const since = new Date(Date.now() - 1000).toISOString();
        assert.equal(podman.run(['run', '--name', 'life', ...Podman.RUN_DEFAULTS, 'busybox', 'sh', '-c', 'exit 3']).status, 3);
        assert.equal(podman.run(['rm', 'life']).status, 0);
        const r = podman.run(['events', '--since', since, '--until', new Date(Date.now() + 1000).toISOString(), '--filter', 'container=life', '--format', '{{.Status}}']);
        assert.equal(r.status, 0, r.stderr);
        const names: Record<string, string> = { died: 'die', remove: 'destroy' };
        control = r.stdout.split('\n').filter(Boolean).map((a) => names[a] ?? a);
      } finally {
        podman.cleanup();
      }
      assert.equal(md.run(['run', '--name', 'life', ...NONE, 'busybox', 'sh', '-c', 'exit 3']).status, 3);
      md.ok(['rm', 'life']);
      const ours = actionsOf(md, 'life');
      // (podman's attach comes after its start, docker's before: the four the two share, in order.)
      const shared = ['create', 'start', 'die', 'destroy'];
      assert.deepEqual(ours.filter((a) => shared.includes(a)), control.filter((a) => shared.includes(a)));
      assert.deepEqual(control.filter((a) => shared.includes(a)), shared);
    }),
  );

  it(
    'pause, unpause, rename (oldName), kill (its signal), stop (kill, die, stop), rm -f (kill 9, die, destroy)',
    withMydocker(async (md) => {
      // PID 1 ignores SIGUSR1 (no handler) and leaves on SIGTERM through its trap.
      const id = md.ok(['run', '-d', '--name', 'one', ...NONE, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']).trim();
      md.ok(['pause', 'one']);
      md.ok(['unpause', 'one']);
      md.ok(['rename', 'one', 'two']);
      md.ok(['kill', '-s', 'USR1', 'two']);
      md.ok(['stop', 'two']);
      md.ok(['start', 'two']);
      md.ok(['restart', '-t', '5', 'two']);
      md.ok(['rm', '-f', 'two']);
      assert.deepEqual(actionsOf(md, id, 'signal', 'exitCode', 'oldName'), [
        'create',
        'start',
        'pause',
        'unpause',
        'rename oldName=one',
        'kill signal=10',
        'kill signal=15',
        'die exitCode=0',
        'stop',
        'start',
        'kill signal=15',
        'die exitCode=0',
        'stop',
        'start',
        'restart',
        'kill signal=9',
        'die exitCode=137',
        'destroy',
      ]);
      // By name: the old one finds the events before the rename, the new one those from it on.
      assert.deepEqual(actionsOf(md, 'one'), ['create', 'start', 'pause', 'unpause']);
      assert.equal(actionsOf(md, 'two')[0], 'rename');
    }),
  );

  it(
    "a detached container that exits on its own: its die comes from conmon's cleanup, once",
    withMydocker(async (md) => {
      md.ok(['run', '-d', '--name', 'bye', ...NONE, 'busybox', 'sh', '-c', 'exit 5']);
      await waitFor(() => actionsOf(md, 'bye').includes('die'), 10_000, 'the die event');
      await waitFor(() => md.state('bye').Status === 'exited', 5000, 'exited');
      assert.deepEqual(actionsOf(md, 'bye', 'exitCode'), ['create', 'start', 'die exitCode=5']);
      md.ok(['rm', 'bye']);
      assert.deepEqual(actionsOf(md, 'bye', 'exitCode'), ['create', 'start', 'die exitCode=5', 'destroy']);
    }),
  );

  it(
    'exec: exec_create and exec_start name the command, exec_die has its exit code, one execID',
    withMydocker(async (md) => {
      md.ok(['run', '-d', '--name', 'ex', ...NONE, 'busybox', 'sleep', '60']);
      assert.equal(md.run(['exec', 'ex', 'sh', '-c', 'exit 4']).status, 4);
      const evs = events(md, '--filter', 'container=ex', '--filter', 'event=exec_create', '--filter', 'event=exec_start', '--filter', 'event=exec_die');
      assert.deepEqual(evs.map((e) => e.Action), ['exec_create: sh -c exit 4', 'exec_start: sh -c exit 4', 'exec_die']);
      const execId = evs[0]!.Actor.Attributes.execID!;
      assert.match(execId, /^[0-9a-f]{64}$/);
      for (const e of evs) assert.equal(e.Actor.Attributes.execID, execId);
      assert.equal(evs[2]!.Actor.Attributes.exitCode, '4');
      md.ok(['rm', '-f', 'ex']);
    }),
  );

  it(
    "filters (one key's values OR'ed, different keys AND'ed), --format templates, system events",
    withMydocker(async (md) => {
      md.ok(['create', '--name', 'aa1', ...NONE, '-l', 'tier=web', 'busybox', 'true']);
      md.ok(['create', '--name', 'bb1', ...NONE, 'busybox', 'true']);
      md.ok(['volume', 'create', 'vol1']);
      md.ok(['tag', 'busybox', 'evtest/app:1']);
      md.ok(['rmi', 'evtest/app:1']);
      md.ok(['rm', 'aa1', 'bb1']);
      md.ok(['volume', 'rm', 'vol1']);
      const fmt = (...flags: string[]) =>
        md.ok(['events', '--since', '0', '--until', '0s', '--format', '{{.Type}} {{.Action}} {{if .Actor.Attributes.name}}{{.Actor.Attributes.name}}{{else}}{{.Actor.ID}}{{end}}', ...flags]).trim().split('\n').filter(Boolean);
      assert.deepEqual(fmt('-f', 'container=aa1'), ['container create aa1', 'container destroy aa1']);
      // By id prefix too, and two containers OR'ed.
      const id = events(md, '-f', 'container=bb1')[0]!.Actor.ID;
      assert.deepEqual(fmt('-f', `container=${id.slice(0, 12)}`, '-f', 'container=aa1'), ['container create aa1', 'container create bb1', 'container destroy aa1', 'container destroy bb1']);
      assert.deepEqual(fmt('-f', 'event=create'), ['container create aa1', 'container create bb1', 'volume create vol1']);
      assert.deepEqual(fmt('-f', 'event=create', '-f', 'type=container'), ['container create aa1', 'container create bb1']);
      assert.deepEqual(fmt('-f', 'type=volume'), ['volume create vol1', 'volume destroy vol1']);
      assert.deepEqual(fmt('-f', 'volume=vol1', '-f', 'event=destroy'), ['volume destroy vol1']);
      assert.deepEqual(fmt('-f', 'type=image'), ['image tag evtest/app:1', 'image untag evtest/app:1']);
      assert.deepEqual(fmt('-f', 'image=evtest/app'), ['image tag evtest/app:1', 'image untag evtest/app:1']);
      assert.deepEqual(fmt('-f', 'image=busybox', '-f', 'event=destroy'), ['container destroy aa1', 'container destroy bb1']);
      assert.deepEqual(fmt('-f', 'label=tier=web'), ['container create aa1', 'container destroy aa1']);
      assert.deepEqual(fmt('-f', 'label=tier'), ['container create aa1', 'container destroy aa1']);
      assert.deepEqual(fmt('-f', 'label=tier=db'), []);
      // A missing attribute is "" (Go's map), {{json .}} is docker's JSON, `system events` the same verb.
      assert.deepEqual(fmt('-f', 'container=aa1', '-f', 'event=create').length, 1);
      const x = md.ok(['system', 'events', '--since', '0', '--until', '0s', '-f', 'container=aa1', '--format', '{{.Status}}|{{.ID}}|{{.From}}|{{.Actor.Attributes.exitCode}}|{{json .Actor.Attributes}}']).trim().split('\n');
      assert.equal(x.length, 2);
      assert.equal(x[0], `create|${events(md, '-f', 'container=aa1')[0]!.Actor.ID}|busybox||{"image":"busybox","name":"aa1","tier":"web"}`);
      const j = JSON.parse(md.ok(['events', '--since', '0', '--until', '0s', '-f', 'type=volume', '--format', 'json']).split('\n')[0]!);
      assert.deepEqual(Object.keys(j), ['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
      // Bad input: exit 125, one line.
      for (const bad of [['-f', 'colour=red'], ['-f', 'nokey'], ['-f', 'type=spaceship'], ['--since', 'yesterday-ish']]) {
        const r = md.run(['events', '--until', '0s', ...bad]);
        assert.equal(r.status, 125, `${bad.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    }),
  );

  it(
    '--since and --until bound the past: RFC 3339 to the nanosecond, Unix timestamps, durations',
    withMydocker(async (md) => {
      for (const n of ['tv1', 'tv2', 'tv3']) md.ok(['volume', 'create', n]);
      const all = events(md, '-f', 'type=volume');
      assert.equal(all.length, 3);
      const [a, b, c] = all as [Ev, Ev, Ev];
      const names = (...flags: string[]) => md.ok(['events', '--format', '{{.Actor.ID}}', '-f', 'type=volume', ...flags]).trim().split('\n').filter(Boolean);
      const rfc = (e: Ev) => md.ok(['events', '--since', '0', '--until', '0s', '-f', `volume=${e.Actor.ID}`]).split(' ')[0]!;
      // The event's own printed time bounds it exactly, on both sides.
      assert.deepEqual(names('--since', rfc(b), '--until', rfc(b)), ['tv2']);
      assert.deepEqual(names('--since', rfc(b), '--until', rfc(c)), ['tv2', 'tv3']);
      const unix = (e: Ev) => `${e.timeNano / 1_000_000_000n}.${(e.timeNano % 1_000_000_000n).toString().padStart(9, '0')}`;
      assert.deepEqual(names('--since', unix(a), '--until', unix(b)), ['tv1', 'tv2']);
      assert.deepEqual(names('--since', '10m', '--until', '0s'), ['tv1', 'tv2', 'tv3']);
      assert.deepEqual(names('--since', '0', '--until', String(Number(a.time) - 1)), []);
      // --until alone: the past up to it (docker's), then exit.
      assert.deepEqual(names('--until', unix(a)), ['tv1']);
      for (const n of ['tv1', 'tv2', 'tv3']) md.ok(['volume', 'rm', n]);
    }),
  );

  it(
    'follows: new events arrive while it runs (only new ones without --since), across the journal appearing; SIGTERM exits 0',
    withMydocker(async (md) => {
      // No journal yet: the follower waits for it (watching the run dir: ready once it has its inotify fd).
      mkdirSync(join(md.root, 'run'), { recursive: true });
      const fresh = follower(md, ['--format', '{{.Type}} {{.Action}} {{.Actor.ID}}']);
      await waitFor(() => holds(fresh.child.pid!, 'anon_inode:inotify'), 10_000, 'the follower to watch');
      md.ok(['volume', 'create', 'old1']);
      // Another follower, started once the journal exists: old1 is the past, not shown.
      await waitFor(() => existsSync(journal(md)), 5000, 'the journal');
      const f = follower(md, ['--format', '{{.Type}} {{.Action}} {{.Actor.ID}}', '-f', 'type=volume']);
      await waitFor(() => holds(f.child.pid!, journal(md)), 10_000, 'the follower to open the journal');
      md.ok(['volume', 'create', 'new1']);
      md.ok(['run', '--rm', '--name', 'fol', ...NONE, 'busybox', 'true']);
      md.ok(['volume', 'rm', 'new1']);
      await waitFor(() => f.lines().length >= 2, 10_000, 'the new events');
      assert.deepEqual(f.lines(), ['volume create new1', 'volume destroy new1']);
      await waitFor(() => fresh.lines().some((l) => l.startsWith('volume destroy')), 10_000, 'the fresh follower');
      assert.equal(fresh.lines()[0], 'volume create old1', fresh.stderr());
      assert.deepEqual(fresh.lines().filter((l) => l.startsWith('container')).map((l) => l.split(' ')[1]), ['create', 'attach', 'start', 'die', 'destroy']);
      for (const x of [f, fresh]) {
        const end = await stop(x);
        assert.deepEqual(end, { code: 0, signal: null }, x.stderr());
        assert.equal(x.stderr(), '');
      }
      // With --since in the past and --until in the future: the past, the new ones, then it ends by itself.
      const until = new Date(Date.now() + 1500).toISOString();
      const g = follower(md, ['--since', '0', '--until', until, '--format', '{{.Action}} {{.Actor.ID}}', '-f', 'type=volume']);
      md.ok(['volume', 'create', 'late1']);
      const end = await g.exited;
      assert.deepEqual(end, { code: 0, signal: null }, g.stderr());
      assert.deepEqual(g.lines(), ['create old1', 'create new1', 'destroy new1', 'create late1']);
      md.ok(['volume', 'rm', 'old1', 'late1']);
    }),
  );

  it(
    'networks: create, connect at the start (before it), disconnect after the die, network connect/disconnect, destroy',
    withMydocker(async (md) => {
      md.ok(['network', 'create', 'evnet']);
      const netId = md.ok(['network', 'inspect', '--format', '{{.Id}}', 'evnet']).trim();
      const id = md.ok(['create', '--name', 'nc', '--network', 'evnet', 'busybox', 'true']).trim();
      md.ok(['start', 'nc']);
      await waitFor(() => md.state('nc').Status === 'exited', 10_000, 'nc to exit');
      md.ok(['network', 'disconnect', 'evnet', 'nc']);
      md.ok(['network', 'connect', 'evnet', 'nc']);
      md.ok(['rm', 'nc']);
      md.ok(['network', 'rm', 'evnet']);
      const evs = events(md).filter((e) => e.Type === 'network' || e.Actor.ID === id);
      assert.deepEqual(
        evs.map((e) => `${e.Type} ${e.Action}`),
        ['network create', 'container create', 'network connect', 'container start', 'container die', 'network disconnect', 'network disconnect', 'network connect', 'container destroy', 'network destroy'],
      );
      for (const e of evs.filter((x) => x.Type === 'network')) {
        assert.equal(e.Actor.ID, netId);
        assert.equal(e.Actor.Attributes.name, 'evnet');
        assert.equal(e.Actor.Attributes.type, 'bridge');
        if (/connect/.test(e.Action)) assert.equal(e.Actor.Attributes.container, id);
        assert.equal(e.status, undefined, "no legacy fields on network events (docker's)");
      }
      assert.deepEqual(events(md, '-f', 'network=evnet').length, 6);
    }),
  );

  it(
    'health_status: healthy and unhealthy, only when the status changes',
    withMydocker(async (md) => {
      md.ok(['run', '-d', '--name', 'hc', ...NONE, '--health-cmd', 'cat /tmp/ok', '--health-interval', '100ms', '--health-retries', '1', 'busybox', 'sleep', '60']);
      const health = () => actionsOf(md, 'hc').filter((a) => a.startsWith('health_status'));
      await waitFor(() => health().length >= 1, 10_000, 'unhealthy');
      md.ok(['exec', 'hc', 'touch', '/tmp/ok']);
      await waitFor(() => health().length >= 2, 10_000, 'healthy');
      // More probes pass: no more events.
      const probes = () => (JSON.parse(md.ok(['inspect', '--format', '{{json .State.Health.Log}}', 'hc'])) as unknown[]).length;
      await waitFor(() => probes() >= 5, 10_000, 'more probes');
      assert.deepEqual(health(), ['health_status: unhealthy', 'health_status: healthy']);
      md.ok(['rm', '-f', 'hc']);
    }),
  );

  it(
    'concurrent writers never tear a line: two processes, 3000 events each, 2 KiB lines',
    withMydocker(async (md) => {
      const mod = join(REPO, 'build/src/mydocker/events/journal.js');
      const script = `
        const { emit } = await import(${JSON.stringify(mod)});
        const engine = { paths: { run: ${JSON.stringify(join(md.root, 'run'))} } };
        const pad = process.argv[1].repeat(2000);
        for (let i = 0; i < 3000; i++) emit(engine, 'volume', 'create', process.argv[1] + i, { pad });
      `;
      // (13 MiB of lines: the bound raised, this test is about the lines, not the rotation.)
      const env = { MYDOCKER_EVENTS_MAX_SIZE: String(64 << 20) };
      const writers = ['a', 'b'].map((w) => spawn(process.execPath, ['--input-type=module', '-e', script, w], { env: cleanEnv(env), stdio: 'inherit' }));
      const codes = await Promise.all(writers.map((c) => new Promise((r) => c.on('exit', r))));
      assert.deepEqual(codes, [0, 0]);
      const lines = readFileSync(journal(md), 'utf8').split('\n');
      assert.equal(lines.pop(), '', 'the file ends with a newline');
      assert.equal(lines.length, 6000);
      const seen = { a: [] as number[], b: [] as number[] };
      for (const l of lines) {
        const e = parse(l); // throws on a torn line
        const w = e.Actor.ID[0] as 'a' | 'b';
        assert.equal(e.Actor.Attributes.pad, w.repeat(2000));
        seen[w].push(Number(e.Actor.ID.slice(1)));
      }
      // Each writer's events in its own order, none lost; and the CLI reads them all.
      for (const w of ['a', 'b'] as const) assert.deepEqual(seen[w], Array.from({ length: 3000 }, (_, i) => i));
      assert.equal(md.ok(['events', '--since', '0', '--until', '0s', '--format', '{{.Action}}']).split('\n').filter(Boolean).length, 6000);
    }),
  );

  it(
    'rotation: past the bound the journal moves to events.log.1 once; readers see both, a follower crosses it',
    withMydocker(async (md) => {
      const env = { MYDOCKER_EVENTS_MAX_SIZE: '600' }; // ~4 events a file
      mkdirSync(join(md.root, 'run'), { recursive: true });
      const f = follower(md, ['--since', '0', '--format', '{{.Action}} {{.Actor.ID}}', '-f', 'type=volume']);
      await waitFor(() => holds(f.child.pid!, 'anon_inode:inotify'), 10_000, 'the follower to watch');
      const names = Array.from({ length: 8 }, (_, i) => `rot${i}`);
      for (const n of names) md.ok(['volume', 'create', n], { env });
      assert.ok(existsSync(`${journal(md)}.1`), 'rotated');
      const size = existsSync(journal(md)) ? readFileSync(journal(md)).length : 0; // (gone right after a rotation)
      assert.ok(size <= 600 + 200, `events.log is bounded (${size})`);
      for (const n of names) md.ok(['volume', 'rm', n], { env });
      // The journal holds the last two files' worth: what it shows is a suffix of what happened, in order.
      const expected = [...names.map((n) => `create ${n}`), ...names.map((n) => `destroy ${n}`)];
      const past = md.ok(['events', '--since', '0', '--until', '0s', '--format', '{{.Action}} {{.Actor.ID}}']).trim().split('\n');
      assert.ok(past.length >= 4 && past.length < expected.length, `${past.length} kept`); // at least the last full file
      assert.deepEqual(past, expected.slice(expected.length - past.length));
      // The follower saw every one, across the rotations, none twice.
      await waitFor(() => f.lines().length >= expected.length, 10_000, 'the follower').catch((e) => assert.fail(`${e.message}: ${f.lines().join('; ')} ${f.stderr()}`));
      assert.deepEqual(f.lines(), expected);
      assert.deepEqual(await stop(f), { code: 0, signal: null });
    }),
  );
});
