#!/usr/bin/env node
// mydocker-cni-hook: an OCI hook that attaches a container to CNI networks (the contract is at
// the top of glue.ts). Run it as
//   createRuntime: { "path": "/usr/local/bin/mydocker-cni-hook", "args": ["mydocker-cni-hook", "add"] }
//   poststop:      { "path": "/usr/local/bin/mydocker-cni-hook", "args": ["mydocker-cni-hook", "del"] }
// The OCI state comes on stdin. Without a mode, the state's status decides (stopped: del).
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import '../bridge/plugin.js'; // our plugins run in-process (cni/exec.ts)
import { parseAnnotations } from './annotations.js';
import { attach, check, detach } from './glue.js';

function main(): void {
  let mode = process.argv[2];
  if (mode !== undefined && !['add', 'del', 'check'].includes(mode)) throw new Error(`unknown mode ${JSON.stringify(mode)} (add, del or check)`);
  let state: { id?: unknown; pid?: unknown; status?: unknown; annotations?: Record<string, string> };
  try {
    state = JSON.parse(readFileSync(0, 'utf8'));
  } catch (e) {
    throw new Error(`the OCI state on stdin is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof state.id !== 'string' || !state.id) throw new Error('the OCI state on stdin has no id');
  mode ??= state.status === 'stopped' ? 'del' : 'add';
  let here: string[] = [];
  try {
    here = [join(dirname(realpathSync(process.argv[1]!)), 'cni')];
  } catch {
    /* run from elsewhere */
  }
  const spec = parseAnnotations(state.annotations ?? {}, [...here, '/usr/lib/cni', '/opt/cni/bin']);
  if (!spec) return;
  if (mode === 'add') attach(state.id, Number(state.pid), spec);
  else if (mode === 'del') detach(state.id, spec);
  else check(state.id, spec);
}

try {
  main();
} catch (e) {
  process.stderr.write(`mydocker-cni-hook: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
