// Build: transpile src/ and test/ to build/ (one file per module, for tests and for the
// library), and bundle the programs on the container's path into dist/:
//   dist/mydocker-runc.js  the CLI (verbs are split into lazily loaded chunks)
//   dist/init.js           the container's init (PID 1 until it execs the user's process)
//   dist/exec-init.js      the exec helper (becomes the exec'd process inside the container)
// Type checking is tsc's job (`make check`); esbuild only strips types, which keeps the
// edit-build-test loop under a second.
import * as esbuild from 'esbuild';
import { readdirSync, statSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

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
    entryPoints: {
      'mydocker-runc': join(root, 'src/cli/main.ts'),
      init: join(root, 'src/process/init-main.ts'),
      'exec-init': join(root, 'src/process/exec-init-main.ts'),
    },
    outdir: join(root, 'dist'),
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies (commander, ajv's runtime) call require() inside an ES module bundle.
    banner: { js: "import { createRequire as __mdrCreateRequire } from 'node:module'; const require = __mdrCreateRequire(import.meta.url);" },
  }),
]);
chmodSync(join(root, 'dist/mydocker-runc.js'), 0o755);
