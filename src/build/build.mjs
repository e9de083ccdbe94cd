// Build: transpile src/ and test/ to build/ (one file per module, for tests and for the
// library), and bundle the programs on the container's path into dist/:
//   dist/mydocker-runc.js  the CLI's entry: runs dist/cli.js from a V8 code cache (src/cli/code-cache.ts)
//   dist/cli.js            the CLI (each verb's modules are evaluated on first import)
//   dist/mydocker-runc-init  the native init (C: src/process/native/init.c, compiled by
//                          src/build/build-native.sh, which `make build` runs after this)
//   dist/mydocker.js       mydocker's entry: runs dist/mydocker-cli.js from a code cache (the same loader)
//   dist/mydocker-cli.js   mydocker's CLI
//   dist/validators.js     the precompiled schema validators, required by the CLI when first used
//   dist/mydocker-bridge.js, dist/mydocker-ipam.js   the CNI plugins (src/network/), and
//   dist/cni/<type>        symlinks to them: a directory to put on CNI_PATH
//   dist/mydocker-cni-hook.js   the OCI hook that drives a CNI chain (createRuntime/poststop)
// Type checking is tsc's job (`make check`); esbuild only strips types, which keeps the
// edit-build-test loop under a second.
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, statSync, rmSync, chmodSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// Native and heavyweight packages stay outside the bundle: koffi's .node binary must be
// required from node_modules at run time.
const external = ['koffi', '@koromix/*'];

// koffi's prebuilt native module, as src/kernel/ffi.ts would resolve it, relative to dist/:
// the bundles dlopen it directly instead of searching node_modules at run time (~1 ms per
// process that calls into libc). Not found (another platform's layout): ffi.ts resolves it.
function koffiNative() {
  const triplet = `${process.platform}_${process.arch}`;
  try {
    const path = createRequire(join(root, 'package.json')).resolve(`@koromix/koffi-${process.platform}-${process.arch}/${triplet}/koffi.node`);
    return { __MDR_KOFFI_NODE__: JSON.stringify(relative(join(root, 'dist'), path)) };
  } catch {
    return {};
  }
}

// dist/ is CommonJS, one file per program (dist/package.json says so). The same code starts
// ~5 ms faster as CommonJS than as ES modules (no ESM loader, no async reads of each chunk),
// and every Node start is on a container's path: the init measured 38 -> 28 ms to its first
// line, `--version` 42 -> 39 ms. CommonJS cannot be code-split, so esbuild wraps each module
// and evaluates it on first import; only its parse cost remains, and the one big lazily
// needed part, the validators (~250 kB: only create, run and update validate), is a file of
// its own so that the other verbs never parse it.
const minify = !process.argv.includes('--no-minify');
const dist = {
  outdir: join(root, 'dist'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  legalComments: 'none',
  logLevel: 'warning',
  // Whitespace and syntax minified (identifiers kept, so stack traces still name functions):
  // a third less text for V8 to read and scan on every start (cli.js 377 -> 243 kB), about
  // 1 ms of `state`, `list`, `--version`. `node src/build/build.mjs
  // --no-minify` keeps the layout for debugging (source maps would not help: the code-cache
  // loader compiles the CLI's bundle through vm.Script, which Node's source maps ignore).
  minifyWhitespace: minify,
  minifySyntax: minify,
  // ffi.ts and launch.ts find their files from import.meta.url.
  define: { 'import.meta.url': '__mdrImportMetaUrl', ...koffiNative() },
  banner: { js: `"use strict";\nconst __mdrImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
};

/** `import … from './generated/validators.js'` becomes `require('./validators.js')` of dist/. */
const validatorsApart = {
  name: 'validators-apart',
  setup(b) {
    b.onResolve({ filter: /\/generated\/validators\.js$/ }, () => ({ path: './validators.js', external: true }));
  },
};

/**
 * commander requires node:child_process when it loads (~3-4 ms of the CLI's start-up, the
 * largest module after the bundle itself) for executable subcommands, which we do not use;
 * the verbs that spawn load it themselves. Load it on first use instead.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) return undefined; // another commander: leave it as it is
      const lazy =
        "let childProcess$; const childProcess = { spawn: (...a) => (childProcess$ ??= require('node:child_process')).spawn(...a) };";
      return { contents: text.replace(eager, lazy), loader: 'js' };
    });
  },
};

rmSync(join(root, 'build'), { recursive: true, force: true });
rmSync(join(root, 'dist'), { recursive: true, force: true });

await Promise.all([
  esbuild.build({
    entryPoints: [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'test'))],
    outdir: join(root, 'build'),
    outbase: root,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    logLevel: 'warning',
  }),
  esbuild.build({
    ...dist,
    entryPoints: {
      'mydocker-runc': join(root, 'src/cli/code-cache.ts'),
      cli: join(root, 'src/cli/main.ts'),
      mydocker: join(root, 'src/cli/code-cache.ts'),
      'mydocker-cli': join(root, 'src/mydocker/cli/main.ts'),
      'mydocker-bridge': join(root, 'src/network/bridge/main.ts'),
      'mydocker-ipam': join(root, 'src/network/ipam/main.ts'),
      'mydocker-cni-hook': join(root, 'src/network/hook/main.ts'),
    },
    plugins: [validatorsApart, lazyChildProcess],
  }),
  esbuild.build({ ...dist, entryPoints: { validators: join(root, 'src/spec/generated/validators.js') } }),
]);
writeFileSync(join(root, 'dist/package.json'), '{ "type": "commonjs" }\n');
// Shebangs. Node reads and parses NODE_EXTRA_CA_CERTS at every start, before any of our code
// (~30 ms for a system CA bundle, measured on this project's machines, where it is set): the
// runtime and the CNI programs never speak TLS, so their bins drop it (`env -S`, coreutils
// >= 8.30); mydocker, whose pulls and pushes do, hands it on as MYDOCKER_EXTRA_CA_CERTS,
// which its registry client reads only when it opens a verified TLS connection.
const shebangs = {
  mydocker: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS MYDOCKER_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node',
  other: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node',
};
for (const bin of ['mydocker-runc', 'mydocker', 'mydocker-bridge', 'mydocker-ipam', 'mydocker-cni-hook']) {
  const file = join(root, `dist/${bin}.js`);
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith('#!')) throw new Error(`${file}: no shebang to replace`);
  writeFileSync(file, (shebangs[bin] ?? shebangs.other) + text.slice(text.indexOf('\n')));
  chmodSync(file, 0o755);
}
// A CNI client finds a plugin as <dir on CNI_PATH>/<type>: dist/cni is such a directory.
mkdirSync(join(root, 'dist/cni'));
for (const plugin of ['mydocker-bridge', 'mydocker-ipam']) symlinkSync(`../${plugin}.js`, join(root, `dist/cni/${plugin}`));
