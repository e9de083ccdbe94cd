#!/usr/bin/env node
// dist/mydocker-runc.js and dist/mydocker.js: the entry points of both CLIs, a loader that runs
// the CLI's bundle (dist/cli.js for the runtime, dist/mydocker-cli.js for mydocker) from a V8
// code cache. Which CLI it is comes from the name it was installed under.
//
// Compiling the ~240 kB bundle, and then each function the verb runs, is the largest part of
// the CLI's own start-up after Node's (~7 ms of `--version`, more for `run`), and it is paid
// by every invocation. V8 can serialize what it compiled (vm.Script#createCachedData) and
// take it back instead of compiling. The cache is per verb, written next to the bundle the
// first time a verb runs successfully (dist/.code-cache/<file>.<verb>, temp file + rename),
// so it holds the functions that verb actually uses. V8 checks the cache against the source,
// its own version and flags and rejects a stale one; we then compile as usual and write it
// again. When dist/ is not writable there is simply no cache.
//
// dist/validators.js (required by create, run and update) is loaded the same way.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

const dist = __dirname;
const cacheDir = join(dist, '.code-cache');

const mydocker = basename(__filename) === 'mydocker.js';
const bundle = mydocker ? 'mydocker-cli.js' : 'cli.js';

/** The verb, as a cache key: the first word that is not a global flag or a flag's value. */
function verbOf(argv: string[]): string {
  const withValue = new Set(mydocker ? ['--root'] : ['--root', '--log', '--log-format', '--criu', '--rootless']);
  const verbs = mydocker
    ? /^[a-z]+$/
    : /^(create|run|start|state|kill|delete|list|ls|exec|ps|events|update|pause|resume|spec|features)$/;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) i++;
    else if (!a.startsWith('-')) {
      if (!verbs.test(a)) return 'other';
      // mydocker's groups (container, image, volume, network): their sub-verb is the key.
      const sub = argv[i + 1];
      return mydocker && /^(container|image|volume|network)$/.test(a) && sub && /^[a-z]+$/.test(sub) ? `${a}-${sub}` : a;
    }
  }
  return 'none';
}
const verb = verbOf(process.argv.slice(2));

const toWrite: Array<[string, Script]> = [];
const loaded = new Map<string, unknown>();

/** Evaluate a CommonJS file of dist/ as require() would, compiled from its code cache. */
function load(file: string): unknown {
  const known = loaded.get(file);
  if (known) return (known as { exports: unknown }).exports;
  const cacheFile = join(cacheDir, `${basename(file)}.${verb}`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* first run of this verb */
  }
  // A '#!' line is only valid at the very start of a script: keep the line, drop the text.
  const source = readFileSync(file, 'utf8').replace(/^#!.*/, '');
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) toWrite.push([cacheFile, script]);
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  loaded.set(file, mod);
  const base = createRequire(file);
  const req = Object.assign((id: string) => (id === './validators.js' ? load(join(dist, 'validators.js')) : base(id)), base);
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, req, mod, file, dirname(file));
  mod.loaded = true;
  return mod.exports;
}

// Only a run that did the verb's work writes its cache. A cache V8 accepts is never written
// again, so the first one is what every later call of the verb compiles from: written by a
// `<verb> --help` or by a call that failed early (a wrong id, a bad flag), it would leave most
// of the verb's code to be compiled from source on every call. `make bench` met exactly that: it asks
// `exec --help` before timing exec, and exec ran ~3 ms slower ever after.
const helpAsked = process.argv.includes('--help') || process.argv.includes('-h');

process.once('exit', (code) => {
  if (!toWrite.length || code !== 0 || helpAsked) return;
  try {
    mkdirSync(cacheDir, { recursive: true });
    for (const [file, script] of toWrite) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, file);
    }
  } catch {
    /* read-only install: no cache, nothing else changes */
  }
});

load(join(dist, bundle));
