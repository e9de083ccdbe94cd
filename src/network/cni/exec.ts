// The runtime side of one plugin call: find `type` in CNI_PATH, run it with the CNI_*
// environment and its config on stdin, read the result or CNI's error JSON.
//
// Our own plugins (mydocker-bridge, mydocker-ipam) are also called in-process, through the
// same request checks (skel.ts invokePlugin), when their modules are loaded (they register
// in `builtins`): a Node process costs ~30 ms, the work itself a few. MYDOCKER_CNI_INPROCESS=0
// spawns them like any other plugin (the benchmark compares both).
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type CniPlugin, type Command, invokePlugin, requestFrom } from './skel.js';
import { CniError, type CniResult, ErrCode } from './types.js';

const require = createRequire(import.meta.url);
let childProcessModule: typeof import('node:child_process') | undefined;
const childProcess = () => (childProcessModule ??= require('node:child_process') as typeof import('node:child_process'));

/** Plugins that can run in this process, by type. */
export const builtins = new Map<string, CniPlugin>();

export interface Invocation {
  command: Command;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS */
  args: string;
  /** CNI_PATH, split */
  path: string[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The executable for plugin `type` in `dirs`. */
export function findPlugin(type: string, dirs: string[]): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(type)) throw new CniError(ErrCode.InvalidConfig, `type: ${JSON.stringify(type)} is not a plugin name`);
  for (const dir of dirs) {
    const p = join(dir, type);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      /* not here */
    }
  }
  throw new CniError(ErrCode.InvalidConfig, `failed to find plugin ${JSON.stringify(type)} in CNI_PATH [${dirs.join(' ')}]`);
}

export function inProcess(type: string): CniPlugin | undefined {
  return process.env.MYDOCKER_CNI_INPROCESS === '0' ? undefined : builtins.get(type);
}

/**
 * Run plugin `type` with `stdin` (its network configuration, as JSON text). Returns the
 * parsed result for ADD/VERSION, undefined otherwise; a failure is thrown as the plugin's
 * CniError (its code, msg and details). `inheritFds` are passed on to a spawned plugin (from
 * fd 3): a lock held on them stays held while the plugin lives, even if we are killed.
 */
export function execPlugin(type: string, inv: Invocation, stdin: string, inheritFds: number[] = []): CniResult | undefined {
  const env: NodeJS.ProcessEnv = {
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifname,
    CNI_ARGS: inv.args,
    CNI_PATH: inv.path.join(':'),
  };
  const builtin = inProcess(type);
  if (builtin) return invokePlugin(builtin, requestFrom(env, stdin)) as CniResult | undefined;

  const bin = findPlugin(type, inv.path);
  const res = childProcess().spawnSync(bin, [], {
    input: stdin,
    env: { ...process.env, PATH: process.env.PATH || DEFAULT_PATH, ...env },
    stdio: ['pipe', 'pipe', 'pipe', ...inheritFds],
    maxBuffer: 16 << 20,
  });
  if (res.error) throw new CniError(ErrCode.Internal, `plugin ${type} (${bin}): ${res.error.message}`);
  const out = res.stdout.toString();
  if (res.status !== 0) {
    let parsed: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    try {
      parsed = JSON.parse(out);
    } catch {
      /* not CNI's error JSON */
    }
    if (parsed && typeof parsed.code === 'number' && typeof parsed.msg === 'string') {
      throw new CniError(parsed.code, parsed.msg, typeof parsed.details === 'string' ? parsed.details : '');
    }
    const how = res.signal ? `killed by ${res.signal}` : `exit status ${res.status}`;
    const text = (out.trim() || res.stderr.toString().trim()).split('\n').pop() ?? '';
    throw new CniError(ErrCode.Internal, `plugin ${type}: ${how}${text ? `: ${text}` : ''}`);
  }
  if (inv.command !== 'ADD' && inv.command !== 'VERSION') return undefined;
  try {
    return JSON.parse(out) as CniResult;
  } catch {
    throw new CniError(ErrCode.DecodingFailure, `plugin ${type}: ${inv.command} printed no JSON result: ${JSON.stringify(out.slice(0, 200))}`);
  }
}
