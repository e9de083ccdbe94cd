// mydocker-cni-hook's work: attach a container to CNI networks as its `createRuntime` hook,
// detach it as its `poststop` hook. It drives any CNI chain (a .conflist of any plugins:
// mydocker-bridge + mydocker-ipam, or the reference bridge + host-local + portmap).
//
// ============================== The annotation contract ==============================
// What to attach comes from the bundle's annotations (config.json "annotations"), which the
// runtime hands to every hook in the OCI state. All keys are optional; without a network the
// hook does nothing.
//
//   org.mydocker.cni.network   the network: a name, looked up in the config dir as
//                              <name>.conflist|.conf|.json or by its "name" field, or an
//                              absolute path to a .conflist/.conf file
//   org.mydocker.cni.confdir   the config dir (default /etc/cni/net.d)
//   org.mydocker.cni.path      CNI_PATH, ":"-separated (default: dist/cni next to the hook,
//                              then /usr/lib/cni:/opt/cni/bin)
//   org.mydocker.cni.ifname    the interface in the container (default eth0)
//   org.mydocker.cni.ip        a fixed IPv4 address: sent as CNI_ARGS IP=<ip> and as
//                              runtimeConfig.ips ["<ip>"] (the "ips" capability)
//   org.mydocker.cni.mac       a fixed MAC: CNI_ARGS MAC=<mac> and runtimeConfig.mac
//   org.mydocker.cni.ports     port maps, comma-separated, docker's -p form
//                              "[hostIP:]hostPort:containerPort[/tcp|udp]", sent as
//                              runtimeConfig.portMappings (the "portMappings" capability)
//   org.mydocker.cni.networks  several networks instead of the four keys above: a JSON array
//                              [{"network": "n1", "ifname": "eth0", "ip": "...", "mac": "...",
//                                "ports": ["8080:80", "127.0.0.1:5353:53/udp"],
//                                "defaultRoute": false}, ...]
//                              (ifname defaults to eth<position>; "defaultRoute": false leaves
//                              out that network's default route — a container can have one:
//                              routes to 0.0.0.0/0 go from its plugins' ipam.routes and
//                              isDefaultGateway is off, in the config its ADD and DEL get)
//   org.mydocker.cni.statedir  where the hook keeps each container's state (default
//                              /run/mydocker-cni/containers):
//       <statedir>/<id>/netns        the container's netns, bind-mounted at ADD so that the
//                                    DEL of poststop still has it (the reference bridge needs
//                                    it to find its rules); unmounted after the DEL
//       <statedir>/<id>/result.json  what was attached (written before each ADD, completed
//                                    after it, removed after a successful DEL):
//         { "containerId": "...", "netns": "<statedir>/<id>/netns",
//           "attachments": [ { "network": "n1", "ifname": "eth0", "configPath": "...",
//                              "config": <the conflist used: DEL uses it even if the file goes>,
//                              "args": [["IP","10.88.0.5"]], "capabilityArgs": {...},
//                              "result": <the chain's CNI result, null until the ADD succeeded> } ] }
//     This file is where an engine reads a container's addresses: result.ips[].address and
//     .gateway, result.interfaces[] (the one with a "sandbox" is the container's, with its
//     mac), and capabilityArgs.portMappings for `ps`'s PORTS.
//
// Pre-allocating an address (so /etc/hosts can be written before the container starts):
// with mydocker-ipam, call allocate() (src/network/index.ts: ipamConfigOf(list) gives the
// network's ipam config) for (container id, ifname), then set org.mydocker.cni.ip to the
// address; the ADD asks mydocker-ipam for it and gets it back, since the same container and
// interface hold it. The poststop DEL releases it; release() undoes a pre-allocation whose
// container never ran.
//
// An engine's `network connect`/`disconnect` of a running container: attach(..., {append:
// true}) adds attachments to the state (the poststop DEL then detaches them too), and
// detachOne() removes one.
//
// Failure: a failed ADD runs the DEL of every network attached so far (and of the failing one,
// so its plugins clean what they did), removes the state, and fails the hook with the
// plugin's message: `create` fails with it and leaves nothing. A failed DEL keeps the state
// (a second DEL retries; `delete` only warns, as poststop failures must).
// =====================================================================================
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KernelError } from '../../kernel/ffi.js';
import { MNT_DETACH, MS_BIND, mount, umount2 } from '../../kernel/mount.js';
import { addNetworkList, checkNetworkList, delNetworkList, loadNetworkList, type NetworkList, type RuntimeConf } from '../cni/chain.js';
import { CniError, type CniResult, ErrCode } from '../cni/types.js';
import type { NetworkSpec } from './annotations.js';

export interface AttachmentState {
  network: string;
  ifname: string;
  configPath: string;
  config: NetworkList;
  args: Array<[string, string]>;
  capabilityArgs: Record<string, unknown>;
  result: CniResult | null;
}

export interface NetworkState {
  containerId: string;
  netns: string;
  attachments: AttachmentState[];
}

/** <statedir>/<id>, for an id CNI accepts (which also keeps it a plain file name). */
export function containerDir(spec: Pick<NetworkSpec, 'stateDir'>, id: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(id)) {
    throw new CniError(ErrCode.InvalidEnv, `container id ${JSON.stringify(id)}: CNI takes letters, digits, "_", "." and "-" (starting with a letter or digit)`);
  }
  return join(spec.stateDir, id);
}
const resultPath = (dir: string) => join(dir, 'result.json');

/** The recorded state of a container's networks (null: none attached). For engines. */
export function readNetworkState(stateDir: string, containerId: string): NetworkState | null {
  const path = resultPath(containerDir({ stateDir }, containerId));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CniError(ErrCode.IOFailure, `${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as NetworkState;
  } catch {
    // Written by rename, so never half-written by us: someone damaged it. Refuse rather than
    // forget what is attached.
    throw new CniError(ErrCode.DecodingFailure, `${path}: damaged (not JSON); what it recorded must be detached by hand`);
  }
}

function writeState(dir: string, st: NetworkState): void {
  const tmp = join(dir, `.result.json.${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(st, null, 1)}\n`, { mode: 0o644 });
  renameSync(tmp, resultPath(dir));
}

/** Is something (the netns) mounted on `path`? (its device differs from its directory's) */
function mounted(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

function unpin(pin: string): void {
  if (mounted(pin)) {
    try {
      umount2(pin, MNT_DETACH);
    } catch (e) {
      if (!(e instanceof KernelError && (e.code === 'EINVAL' || e.code === 'ENOENT'))) throw e;
    }
  }
}

function runtimeConf(containerId: string, netns: string, a: Pick<AttachmentState, 'ifname' | 'args' | 'capabilityArgs'>, path: string[]): RuntimeConf {
  return { containerId, netns, ifname: a.ifname, args: a.args, capabilityArgs: a.capabilityArgs, path };
}

/**
 * ADD: attach container `containerId`, whose init is `pid`, to every network of `spec`. On
 * failure everything is undone before the error is thrown. With `append` (an engine's
 * `network connect`), the container keeps what it has and the new attachments are added to
 * its state; a failure then undoes only the new ones.
 */
export function attach(containerId: string, pid: number, spec: NetworkSpec, opts: { append?: boolean } = {}): NetworkState {
  const dir = containerDir(spec, containerId);
  if (!Number.isInteger(pid) || pid <= 0) throw new CniError(ErrCode.InvalidEnv, `the OCI state has no pid (${pid}): attach runs as a createRuntime hook`);
  const nsPath = `/proc/${pid}/ns/net`;
  let nsIno: number;
  try {
    nsIno = statSync(nsPath).ino;
  } catch {
    throw new CniError(ErrCode.UnknownContainer, `container ${containerId}: process ${pid} is gone`);
  }
  if (nsIno === statSync('/proc/self/ns/net').ino) {
    throw new CniError(ErrCode.InvalidConfig, `container ${containerId} shares the host's network namespace: give it its own (linux.namespaces: {"type": "network"})`);
  }
  const pin = join(dir, 'netns');
  let st: NetworkState = { containerId, netns: pin, attachments: [] };
  const before = opts.append ? readNetworkState(spec.stateDir, containerId) : null;
  if (before && mounted(pin) && statSync(pin).ino === nsIno) {
    st = { ...before, containerId, netns: pin };
    for (const a of spec.attachments) {
      const clash = st.attachments.find((o) => o.ifname === a.ifname || o.network === a.network);
      if (clash) throw new CniError(ErrCode.InvalidConfig, `container ${containerId} is already attached to network ${clash.network} (${clash.ifname})`);
    }
  } else if (existsSync(resultPath(dir)) || existsSync(pin)) {
    // A container id is unique while it exists: this is what an earlier one left. Clean it first.
    detach(containerId, spec);
  }
  const kept = st.attachments.length;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  try {
    if (!kept) {
      writeFileSync(pin, '', { mode: 0o444 });
      mount(nsPath, pin, null, MS_BIND);
    }
    for (const a of spec.attachments) {
      const loaded = loadNetworkList(a.network, spec.confDir);
      const list = a.defaultRoute === false ? withoutDefaultRoute(loaded.list) : loaded.list;
      const path = loaded.path;
      const args: Array<[string, string]> = [];
      const capabilityArgs: Record<string, unknown> = {};
      if (a.ip) {
        args.push(['IP', a.ip]);
        capabilityArgs.ips = [a.ip];
      }
      if (a.mac) {
        args.push(['MAC', a.mac]);
        capabilityArgs.mac = a.mac;
      }
      if (a.portMappings.length) capabilityArgs.portMappings = a.portMappings;
      const entry: AttachmentState = { network: list.name, ifname: a.ifname, configPath: path, config: list, args, capabilityArgs, result: null };
      st.attachments.push(entry);
      writeState(dir, st); // before the ADD: a DEL must undo even an ADD that died half-way
      entry.result = addNetworkList(list, runtimeConf(containerId, pin, entry, spec.cniPath));
      writeState(dir, st);
    }
    return st;
  } catch (e) {
    try {
      if (kept) {
        const added = st.attachments.splice(kept);
        for (const a of added.reverse()) delNetworkList(a.config, runtimeConf(containerId, pin, a, spec.cniPath), a.result ?? undefined);
        writeState(dir, st);
      } else detachState(st, spec, dir);
    } catch {
      /* the ADD's error is the one to report; the state stays for a later DEL */
    }
    throw e;
  }
}

/** A network list whose plugins add no default route (the reference keys: ipam.routes, isDefaultGateway). */
export function withoutDefaultRoute(list: NetworkList): NetworkList {
  return {
    ...list,
    plugins: list.plugins.map((p) => {
      const q: typeof p = { ...p };
      if (q.isDefaultGateway === true) q.isDefaultGateway = false;
      const ipam = q.ipam as { routes?: Array<{ dst?: string }> } | undefined;
      if (ipam && Array.isArray(ipam.routes)) q.ipam = { ...ipam, routes: ipam.routes.filter((r) => r?.dst !== '0.0.0.0/0') };
      return q;
    }),
  };
}

function detachState(st: NetworkState, spec: NetworkSpec, dir: string): void {
  const pin = join(dir, 'netns');
  const netns = mounted(pin) ? pin : '';
  let first: unknown;
  for (const a of [...st.attachments].reverse()) {
    try {
      delNetworkList(a.config, runtimeConf(st.containerId, netns, a, spec.cniPath), a.result ?? undefined);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
  unpin(pin);
  rmSync(dir, { recursive: true, force: true });
}

/** DEL: detach container `containerId` from what its state says it was attached to. Idempotent. */
export function detach(containerId: string, spec: NetworkSpec): void {
  const dir = containerDir(spec, containerId);
  let st = readNetworkState(spec.stateDir, containerId);
  if (!st) {
    // Nothing recorded: at most a pin from an ADD that died before its first write.
    if (existsSync(dir)) {
      unpin(join(dir, 'netns'));
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  st = { ...st, containerId };
  detachState(st, spec, dir);
}

/**
 * DEL of one attachment (an engine's `network disconnect`): the others stay. Detaching the
 * last one removes the state as detach() does. Nothing recorded for that network: a no-op.
 */
export function detachOne(containerId: string, spec: NetworkSpec, network: string): void {
  const dir = containerDir(spec, containerId);
  const st = readNetworkState(spec.stateDir, containerId);
  if (!st) return;
  const a = st.attachments.find((x) => x.network === network);
  if (!a) return;
  if (st.attachments.length === 1) return detach(containerId, spec);
  const pin = join(dir, 'netns');
  delNetworkList(a.config, runtimeConf(containerId, mounted(pin) ? pin : '', a, spec.cniPath), a.result ?? undefined);
  writeState(dir, { ...st, containerId, attachments: st.attachments.filter((x) => x !== a) });
}

/**
 * DEL without the state (an engine's last resort when result.json is damaged): each given
 * network and interface is detached by its config alone — CNI's DEL needs neither the netns
 * nor the ADD's result — then the state and the pinned netns go. Idempotent.
 */
export function detachKnown(containerId: string, spec: NetworkSpec, attachments: Array<{ network: string; ifname: string }>): void {
  const dir = containerDir(spec, containerId);
  let first: unknown;
  for (const a of attachments) {
    try {
      const { list } = loadNetworkList(a.network, spec.confDir);
      delNetworkList(list, runtimeConf(containerId, '', { ifname: a.ifname, args: [], capabilityArgs: {} }, spec.cniPath));
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
  unpin(join(dir, 'netns'));
  rmSync(dir, { recursive: true, force: true });
}

/** CHECK every attachment against its recorded result. */
export function check(containerId: string, spec: NetworkSpec): void {
  const st = readNetworkState(spec.stateDir, containerId);
  if (!st) throw new CniError(ErrCode.UnknownContainer, `container ${containerId}: no network attached`);
  for (const a of st.attachments) {
    if (!a.result) throw new CniError(ErrCode.Internal, `network ${a.network}: its ADD never completed`);
    checkNetworkList(a.config, runtimeConf(containerId, st.netns, a, spec.cniPath), a.result);
  }
}
