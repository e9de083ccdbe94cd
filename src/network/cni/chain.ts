// The runtime side of CNI for a whole network (what libcni does for a conflist): load the
// network's configuration, then run its plugins in order for ADD (each one gets the previous
// one's result as prevResult) and in reverse order for DEL; CHECK in order with the cached
// result. Any plugin of any vendor: the reference bridge + host-local + portmap as well as ours.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execPlugin, type Invocation } from './exec.js';
import type { Command } from './skel.js';
import { checkVersion, CniError, type CniResult, ErrCode, NETWORK_NAME_RE } from './types.js';

export interface NetworkList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

export const DEFAULT_CONF_DIR = '/etc/cni/net.d';

function invalid(where: string, msg: string): never {
  throw new CniError(ErrCode.InvalidConfig, `${where}: ${msg}`);
}

/** A .conflist's content, or a single-plugin .conf turned into a list of one. */
export function parseNetworkList(raw: unknown, where: string): NetworkList {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) invalid(where, 'must be a JSON object');
  const c = raw as Record<string, unknown>;
  if (typeof c.name !== 'string' || !NETWORK_NAME_RE.test(c.name)) invalid(where, `name: ${JSON.stringify(c.name)} is not a valid network name`);
  let cniVersion: string;
  try {
    cniVersion = checkVersion(c.cniVersion);
  } catch (e) {
    return invalid(where, (e as Error).message);
  }
  let plugins: unknown[];
  if (c.plugins !== undefined) {
    if (!Array.isArray(c.plugins) || c.plugins.length === 0) invalid(where, 'plugins: must be a non-empty array');
    plugins = c.plugins;
  } else {
    const { name: _n, cniVersion: _v, ...plugin } = c;
    plugins = [plugin];
  }
  plugins.forEach((p, i) => {
    if (!p || typeof p !== 'object' || typeof (p as { type?: unknown }).type !== 'string' || !(p as { type: string }).type) {
      invalid(where, `plugins[${i}].type: missing`);
    }
  });
  return { cniVersion, name: c.name, disableCheck: c.disableCheck === true, plugins: plugins as NetworkList['plugins'] };
}

function readList(path: string): NetworkList {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CniError(ErrCode.InvalidConfig, `network config ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CniError(ErrCode.DecodingFailure, `network config ${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseNetworkList(raw, `network config ${path}`);
}

/**
 * A network by absolute path, or by name in `confDir`: <name>.conflist, <name>.conf or
 * <name>.json first, then any *.conflist/*.conf/*.json there whose "name" is `ref` (as libcni).
 */
export function loadNetworkList(ref: string, confDir = DEFAULT_CONF_DIR): { list: NetworkList; path: string } {
  if (ref.includes('/')) {
    if (!ref.startsWith('/')) throw new CniError(ErrCode.InvalidConfig, `network ${ref}: a path must be absolute`);
    return { list: readList(ref), path: ref };
  }
  if (!NETWORK_NAME_RE.test(ref)) throw new CniError(ErrCode.InvalidConfig, `network ${JSON.stringify(ref)}: not a valid network name`);
  let names: string[];
  try {
    names = readdirSync(confDir).sort();
  } catch (e) {
    throw new CniError(ErrCode.InvalidConfig, `network ${ref}: config dir ${confDir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
  for (const ext of ['.conflist', '.conf', '.json']) {
    if (names.includes(ref + ext)) {
      const path = join(confDir, ref + ext);
      const list = readList(path);
      if (list.name === ref) return { list, path };
    }
  }
  for (const n of names) {
    if (!/\.(conflist|conf|json)$/.test(n)) continue;
    try {
      const path = join(confDir, n);
      const list = readList(path);
      if (list.name === ref) return { list, path };
    } catch {
      /* someone else's broken file: not the one we look for */
    }
  }
  throw new CniError(ErrCode.InvalidConfig, `network ${ref}: not found in ${confDir}`);
}

export interface RuntimeConf {
  containerId: string;
  /** The netns path ('' on a DEL without one). */
  netns: string;
  ifname: string;
  /** CNI_ARGS pairs; IgnoreUnknown=1 is always sent first (the reference plugins refuse unknown keys otherwise). */
  args: Array<[string, string]>;
  /** Values for the capabilities plugins declare: portMappings, ips, mac, ... */
  capabilityArgs: Record<string, unknown>;
  /** CNI_PATH */
  path: string[];
}

/** One plugin's stdin: its config plus the list's name and version, prevResult, runtimeConfig (its capabilities only). */
export function pluginConfig(list: NetworkList, plugin: Record<string, unknown>, rt: RuntimeConf, prevResult?: CniResult): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult) conf.prevResult = prevResult;
  const caps = (plugin.capabilities ?? {}) as Record<string, unknown>;
  const rc: Record<string, unknown> = {};
  for (const [k, on] of Object.entries(caps)) if (on === true && rt.capabilityArgs[k] !== undefined) rc[k] = rt.capabilityArgs[k];
  if (Object.keys(rc).length) conf.runtimeConfig = rc;
  else delete conf.runtimeConfig;
  return conf;
}

function invocation(command: Command, rt: RuntimeConf): Invocation {
  const args = [['IgnoreUnknown', '1'], ...rt.args].map(([k, v]) => `${k}=${v}`).join(';');
  return { command, containerId: rt.containerId, netns: rt.netns, ifname: rt.ifname, args, path: rt.path };
}

function prefix(list: NetworkList, type: string, e: unknown): CniError {
  const err = e instanceof CniError ? e : new CniError(ErrCode.Internal, (e as Error).message);
  return new CniError(err.code, `network ${list.name}: plugin ${type}: ${err.message}`, err.details);
}

/** ADD every plugin in order; the last result. Stops at the first failure (the caller runs DEL). */
export function addNetworkList(list: NetworkList, rt: RuntimeConf): CniResult {
  let prev: CniResult | undefined;
  for (const plugin of list.plugins) {
    try {
      prev = execPlugin(plugin.type, invocation('ADD', rt), JSON.stringify(pluginConfig(list, plugin, rt, prev)));
    } catch (e) {
      throw prefix(list, plugin.type, e);
    }
  }
  return prev!;
}

/**
 * DEL every plugin in reverse order, with the ADD's result when there is one. Every plugin is
 * asked even when one fails (so each cleans what it can); the first failure is thrown after.
 */
export function delNetworkList(list: NetworkList, rt: RuntimeConf, prevResult?: CniResult): void {
  let first: CniError | undefined;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      execPlugin(plugin.type, invocation('DEL', rt), JSON.stringify(pluginConfig(list, plugin, rt, prevResult)));
    } catch (e) {
      first ??= prefix(list, plugin.type, e);
    }
  }
  if (first) throw first;
}

/** CHECK every plugin in order against the ADD's result. */
export function checkNetworkList(list: NetworkList, rt: RuntimeConf, prevResult: CniResult): void {
  if (list.disableCheck) return;
  for (const plugin of list.plugins) {
    try {
      execPlugin(plugin.type, invocation('CHECK', rt), JSON.stringify(pluginConfig(list, plugin, rt, prevResult)));
    } catch (e) {
      throw prefix(list, plugin.type, e);
    }
  }
}
