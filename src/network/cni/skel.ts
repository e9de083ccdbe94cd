// The plugin side of CNI: a request (the CNI_* environment and the network config on stdin),
// dispatched to a plugin's commands, answered with the result JSON on stdout or CNI's error
// JSON ({cniVersion, code, msg, details}) and exit code 1.
//
// `invokePlugin` is the same dispatch without a process: the chain runner (cni/exec.ts) calls
// our own plugins through it in-process, with exactly the checks a spawned plugin makes.
import { readFileSync, writeSync } from 'node:fs';
import { checkVersion, CniError, type CniResult, CURRENT_VERSION, ErrCode, asCniError, resultFor, SUPPORTED_VERSIONS } from './types.js';

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
const COMMANDS: readonly Command[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

export interface CniRequest {
  command: Command;
  containerId: string;
  /** '' on DEL when the runtime no longer has the namespace. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as given. */
  args: string;
  /** CNI_PATH, split. */
  path: string[];
  /** The network configuration (stdin), parsed. */
  config: Record<string, unknown>;
  /** stdin as received: what a delegated IPAM plugin gets. */
  stdin: string;
}

export interface CniPlugin {
  add(req: CniRequest): CniResult;
  del(req: CniRequest): void;
  check(req: CniRequest): void;
  status?(req: CniRequest): void;
  gc?(req: CniRequest): void;
}

/** Container ids as CNI allows them. */
const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateIfname(name: string, what = 'CNI_IFNAME'): string {
  if (!name) throw new CniError(ErrCode.InvalidEnv, `${what}: must not be empty`);
  if (Buffer.byteLength(name) > 15) throw new CniError(ErrCode.InvalidEnv, `${what} ${JSON.stringify(name)}: longer than 15 bytes`);
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) throw new CniError(ErrCode.InvalidEnv, `${what} ${JSON.stringify(name)}: not a valid interface name`);
  return name;
}

/** Which CNI_* variables each command needs (CNI spec, "Parameters"). */
function required(cmd: Command): string[] {
  switch (cmd) {
    case 'ADD':
    case 'CHECK':
      return ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'];
    case 'DEL':
      return ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'];
    default:
      return [];
  }
}

/** Build a request from an environment and stdin; throws CniError for what is missing or malformed. */
export function requestFrom(env: NodeJS.ProcessEnv, stdin: string): CniRequest {
  const command = env.CNI_COMMAND as Command;
  if (!command) throw new CniError(ErrCode.InvalidEnv, 'CNI_COMMAND: not set (one of ADD, DEL, CHECK, VERSION, STATUS, GC)');
  if (!COMMANDS.includes(command)) throw new CniError(ErrCode.InvalidEnv, `CNI_COMMAND ${JSON.stringify(command)}: unknown (one of ${COMMANDS.join(', ')})`);
  const missing = required(command).filter((k) => env[k] === undefined || env[k] === '');
  if (missing.length) throw new CniError(ErrCode.InvalidEnv, `required environment variables missing: ${missing.join(', ')}`);
  let config: Record<string, unknown> = {};
  if (stdin.trim() !== '' || command !== 'VERSION') {
    try {
      config = JSON.parse(stdin);
    } catch (e) {
      throw new CniError(ErrCode.DecodingFailure, `network configuration (stdin): not valid JSON: ${(e as Error).message}`);
    }
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new CniError(ErrCode.DecodingFailure, 'network configuration (stdin): must be a JSON object');
    }
  }
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId && !CONTAINER_ID_RE.test(containerId)) {
    throw new CniError(ErrCode.InvalidEnv, `CNI_CONTAINERID ${JSON.stringify(containerId)}: use letters, digits, "_", "." and "-"`);
  }
  const ifname = env.CNI_IFNAME ?? '';
  if (required(command).includes('CNI_IFNAME')) validateIfname(ifname);
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? '',
    ifname,
    args: env.CNI_ARGS ?? '',
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
    config,
    stdin,
  };
}

/**
 * Run one command of `plugin`: the version checks, then the command. Returns the result to
 * print (ADD, VERSION) or undefined; throws CniError.
 */
export function invokePlugin(plugin: CniPlugin, req: CniRequest): CniResult | Record<string, unknown> | undefined {
  if (req.command === 'VERSION') {
    const asked = req.config.cniVersion;
    const v = typeof asked === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(asked) ? asked : SUPPORTED_VERSIONS.at(-1)!;
    return { cniVersion: v, supportedVersions: [...SUPPORTED_VERSIONS] };
  }
  const version = checkVersion(req.config.cniVersion);
  switch (req.command) {
    case 'ADD':
      return resultFor(plugin.add(req), version);
    case 'DEL':
      plugin.del(req);
      return undefined;
    case 'CHECK':
      if (version.startsWith('0.3')) throw new CniError(ErrCode.IncompatibleVersion, `CHECK: needs cniVersion 0.4.0 or later (got ${version})`);
      plugin.check(req);
      return undefined;
    case 'STATUS':
    case 'GC': {
      if (version !== '1.1.0') throw new CniError(ErrCode.IncompatibleVersion, `${req.command}: needs cniVersion 1.1.0 (got ${version})`);
      const fn = req.command === 'STATUS' ? plugin.status : plugin.gc;
      fn?.call(plugin, req);
      return undefined;
    }
  }
}

/** A plugin's main(): env + stdin in, JSON out, exit code. */
export function pluginMain(plugin: CniPlugin): void {
  let version = CURRENT_VERSION;
  let code = 0;
  try {
    let stdin = '';
    try {
      stdin = readFileSync(0, 'utf8');
    } catch (e) {
      // VERSION may come without stdin at all; anything else needs its config.
      if (process.env.CNI_COMMAND !== 'VERSION') throw new CniError(ErrCode.IOFailure, `reading stdin: ${(e as Error).message}`);
    }
    const req = requestFrom(process.env, stdin);
    if (typeof req.config.cniVersion === 'string') version = req.config.cniVersion;
    const out = invokePlugin(plugin, req);
    if (out !== undefined) writeSync(1, `${JSON.stringify(out)}\n`);
  } catch (e) {
    const err = asCniError(e);
    writeSync(1, `${JSON.stringify(err.toJSON(version))}\n`);
    code = 1;
  }
  process.exitCode = code;
}
