// Running OCI hooks: the state JSON on stdin, `args[0]` as argv[0], only the hook's own env,
// and `timeout` (seconds) enforced with SIGKILL.
//
// Which namespace a hook runs in is decided by who calls this: the runtime (prestart,
// createRuntime, poststart, poststop) or the init inside the container (createContainer,
// startContainer).
import { createRequire } from 'node:module';
import { RuntimeError } from '../errors.js';
import type { HookSpec } from '../process/init-config.js';

// node:child_process takes ~4-5 ms to load (net, streams), a third of the init's own start-up,
// and the init only needs it when the config has createContainer/startContainer hooks.
const require = createRequire(import.meta.url);
let childProcessModule: typeof import('node:child_process') | undefined;
const childProcess = () => (childProcessModule ??= require('node:child_process') as typeof import('node:child_process'));

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export class HookError extends RuntimeError {}

/** Run each hook in order; the first failure throws a HookError naming the hook kind, index and path. */
export function runHooks(kind: HookKind, hooks: HookSpec[] | undefined, state: object): void {
  if (!hooks?.length) return;
  const input = JSON.stringify(state);
  hooks.forEach((hook, i) => runHook(kind, i, hook, input));
}

/** Like runHooks but failures are returned as warnings (poststart, poststop), and every hook runs. */
export function runHooksWarn(kind: HookKind, hooks: HookSpec[] | undefined, state: object): string[] {
  if (!hooks?.length) return [];
  const input = JSON.stringify(state);
  const warnings: string[] = [];
  hooks.forEach((hook, i) => {
    try {
      runHook(kind, i, hook, input);
    } catch (e) {
      warnings.push((e as Error).message);
    }
  });
  return warnings;
}

function runHook(kind: HookKind, index: number, hook: HookSpec, input: string): void {
  const what = `${kind} hook #${index} (${hook.path})`;
  const args = hook.args?.length ? hook.args : [hook.path];
  const res = childProcess().spawnSync(hook.path, args.slice(1), {
    argv0: args[0],
    input,
    env: envObject(hook.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: hook.timeout ? hook.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 20,
  });
  // A hook that does not read its stdin makes our write of the state fail with EPIPE: that
  // is the hook's business, its exit status is what counts.
  if (res.error && !((res.error as NodeJS.ErrnoException).code === 'EPIPE' && (res.status !== null || res.signal))) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new HookError(`${what}: timed out after ${hook.timeout}s`);
    if (code === 'ENOENT') throw new HookError(`${what}: no such file`);
    if (code === 'EACCES') throw new HookError(`${what}: permission denied`);
    throw new HookError(`${what}: ${res.error.message}`);
  }
  if (res.status !== 0) {
    const how = res.signal ? `killed by ${res.signal}` : `exit status ${res.status}`;
    const stderr = res.stderr.toString().trim().split('\n').pop();
    throw new HookError(`${what}: ${how}${stderr ? `: ${stderr}` : ''}`);
  }
}

function envObject(env: string[] | undefined): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const kv of env ?? []) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
