// A container on networks, through its life:
//   create   networksAtCreate: --network/--ip/--network-alias/-p checked, the record's Networks
//   start    prepareStart: each network's bridge is there, the container's addresses are
//            allocated (so /etc/hosts is written before it starts) and its host ports chosen
//            and checked; the bundle gets mydocker-cni-hook as createRuntime (ADD) and
//            poststop (DEL) hooks, with the annotations saying what to attach
//   running  joined: the neighbours' /etc/hosts learn it; connect/disconnect add and remove
//            networks in place
//   exit/rm  the poststop DEL detaches it; releaseNetworks then undoes whatever a crash or a
//            failed start left (a DEL that never ran, an address allocated for a start that
//            never reached its ADD) and the neighbours forget it
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Hooks } from '../../spec/generated/types.js';
import { distScriptPath } from '../../process/launch.js';
import type { PortMapping } from '../../network/bridge/ports.js';
import { ANNOTATIONS, type NetworkSpec } from '../../network/hook/annotations.js';
import { CniError, ErrCode } from '../../network/cni/types.js';
import { attach, detach, detachKnown, detachOne } from '../../network/hook/glue.js';
import { allocate, release } from '../../network/ipam/allocator.js';
import { contains, parseCidr, parseIPv4 } from '../../network/ip4.js';
import { ConflictError, InputError, MydockerError } from '../errors.js';
import { emitNetworks } from '../events/container.js';
import { emitNetwork } from '../events/journal.js';
import type { ContainerRecord, HostConfig, NetworkAttachment } from '../containers/record.js';
import { liveState } from '../containers/status.js';
import type { Engine } from '../engine.js';
import { DEFAULT_NETWORK, type NetworkInfo } from './config.js';
import { type Endpoint, endpoints } from './endpoints.js';
import { attachedMembers, hostsFor, refreshHosts, userNetworksOf } from './hosts.js';
import { closeAll, holdPorts, networkSettingsPorts, portSpec, wantedPorts } from './ports.js';
import type { NetworkStore } from './store.js';

export const isModeWithoutNetworks = (mode: string) => mode === 'host' || mode === 'none' || mode.startsWith('container:');

function cniError(e: unknown): Error {
  // The plugins' CniErrors carry a clear message; as mydocker's own failures they exit 125.
  return e instanceof MydockerError ? e : new MydockerError((e as Error).message);
}

/** A network a container names, or docker's "network X not found". */
function networkNamed(store: NetworkStore, ref: string): NetworkInfo {
  const n = ref === DEFAULT_NETWORK ? store.ensureDefault() : store.find(ref);
  if (!n) throw new MydockerError(`network ${ref} not found`);
  return n;
}

function checkFixedIp(net: NetworkInfo, ip: string, flag: string): string {
  if (net.builtin) throw new InputError(`${flag} ${ip}: user specified IP address is supported on user defined networks only`);
  let n: number;
  try {
    n = parseIPv4(ip, flag);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (!contains(parseCidr(net.subnet, 'subnet'), n)) throw new InputError(`${flag} ${ip}: not in network ${net.name}'s subnet ${net.subnet}`);
  // mydocker-ipam hands out fixed addresses from the same range as the others (host-local's rule).
  if (net.ipRange && !contains(parseCidr(net.ipRange, 'ipRange'), n)) throw new InputError(`${flag} ${ip}: not in network ${net.name}'s --ip-range ${net.ipRange}`);
  return ip;
}

function checkAliases(net: NetworkInfo, aliases: string[], flag: string): string[] | null {
  if (!aliases.length) return null;
  if (net.builtin) throw new InputError(`${flag}: network-scoped alias is supported only for containers in user defined networks`);
  for (const a of aliases) if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a)) throw new InputError(`${flag} ${a}: invalid alias (letters, digits, "_", "." and "-")`);
  return aliases;
}

/**
 * `run`/`create`: the record's Networks for --network, --ip and --network-alias; published
 * ports checked against the mode (kept but unused with host, as docker warns; refused with
 * none, where they could never work). Warnings are docker's.
 */
export function networksAtCreate(engine: Engine, hc: HostConfig, f: { ip?: string; networkAlias?: string[] }): { networks: Record<string, NetworkAttachment>; warnings: string[] } {
  const mode = hc.NetworkMode;
  const publishes = Object.keys(hc.PortBindings).length > 0 || hc.PublishAllPorts;
  if (isModeWithoutNetworks(mode)) {
    if (f.ip !== undefined) throw new InputError(`--ip ${f.ip}: a container with --network ${mode} has no network to take it`);
    if (f.networkAlias?.length) throw new InputError(`--network-alias: a container with --network ${mode} has no network to take it`);
    if (publishes && mode === 'none') throw new InputError('-p/--publish: a container with --network none has no network to publish ports on');
    return { networks: {}, warnings: publishes ? ['Published ports are discarded when using host network mode'] : [] };
  }
  const net = networkNamed(engine.networks, mode);
  const att: NetworkAttachment = { NetworkID: net.id, Aliases: checkAliases(net, f.networkAlias ?? [], '--network-alias'), IPAMConfig: f.ip !== undefined ? { IPv4Address: checkFixedIp(net, f.ip, '--ip') } : null };
  return { networks: { [net.name]: att }, warnings: publishes && net.internal ? [`Published ports are discarded on the internal network ${net.name}`] : [] };
}

export interface StartNetworking {
  annotations: Record<string, string>;
  hooks: Hooks;
  /** The container's /etc/hosts. */
  hosts: string;
  /** Sockets holding the published host ports: hand them to the monitor, then close them. */
  portFds: number[];
}

/** The mydocker-cni-hook entries of a bundle: node runs the hook script (no PATH needed). */
function hookEntries(): Hooks {
  const script = distScriptPath('mydocker-cni-hook.js');
  const env = [`PATH=${process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`];
  return {
    createRuntime: [{ path: process.execPath, args: ['node', script, 'add'], env }],
    poststop: [{ path: process.execPath, args: ['node', script, 'del'], env }],
  };
}

function cniPath(): string[] {
  return [join(dirname(distScriptPath('mydocker-cni-hook.js')), 'cni')];
}

function hookSpec(store: NetworkStore): NetworkSpec {
  return { attachments: [], confDir: store.confDir, cniPath: cniPath(), stateDir: store.hookStateDir };
}

/**
 * Before a start: addresses allocated, host ports chosen and checked, the hook's annotations
 * and the container's /etc/hosts. Null when the container has no network to join. On failure
 * nothing stays allocated.
 */
export function prepareStart(engine: Engine, rec: ContainerRecord): StartNetworking | null {
  if (isModeWithoutNetworks(rec.HostConfig.NetworkMode)) return null;
  const entries = Object.entries(rec.Networks);
  if (!entries.length) return null;
  const store = engine.networks;
  const plan: Array<{ net: NetworkInfo; ifname: string; ip: string }> = [];
  let ports: PortMapping[] = [];
  let portFds: number[] = [];
  try {
    for (const [i, [name, att]] of entries.entries()) {
      const net = networkNamed(store, name);
      store.ensureLink(net);
      const ifname = `eth${i}`;
      const fixed = att.IPAMConfig?.IPv4Address;
      let ip: string;
      try {
        ip = allocate(store.ipamOf(net), rec.Id, ifname, fixed ? [parseIPv4(fixed, '--ip')] : []).ips[0]!.address.split('/')[0]!;
      } catch (e) {
        throw cniError(e);
      }
      plan.push({ net, ifname, ip });
    }
    // Published ports and the default route go through the first network that leads out (an
    // internal one leads nowhere: docker publishes nothing on it).
    if (plan.some((p) => !p.net.internal)) ({ mappings: ports, fds: portFds } = holdPorts(wantedPorts(rec.Config, rec.HostConfig), store.dirs.plugin, rec.Name));
  } catch (e) {
    for (const p of plan) release(store.ipamOf(p.net), rec.Id, p.ifname);
    throw e;
  }
  const gatewayIndex = Math.max(0, plan.findIndex((p) => !p.net.internal));
  const annotations = {
    // The first network gives the default route and the published ports, as docker's gateway network.
    [ANNOTATIONS.networks]: JSON.stringify(plan.map((p, i) => ({ network: p.net.name, ifname: p.ifname, ip: p.ip, ports: i === gatewayIndex ? ports.map(portSpec) : [], defaultRoute: i === gatewayIndex }))),
    [ANNOTATIONS.confDir]: store.confDir,
    [ANNOTATIONS.stateDir]: store.hookStateDir,
    [ANNOTATIONS.path]: cniPath().join(':'),
  };
  const self = { rec, endpoints: plan.map((p) => ({ network: p.net.name, ip: p.ip })) };
  try {
    const user = userNetworksOf(engine, plan.map((p) => p.net.name));
    const hosts = hostsFor(self, user.size ? attachedMembers(engine) : [], user, (n) => plan.find((p) => p.net.name === n)?.net.gateway);
    return { annotations, hooks: hookEntries(), hosts, portFds };
  } catch (e) {
    closeAll(portFds);
    for (const p of plan) release(store.ipamOf(p.net), rec.Id, p.ifname);
    throw e;
  }
}

/** After the start: the neighbours on user-defined networks learn the container's name. */
export function joined(engine: Engine, rec: ContainerRecord): void {
  emitNetworks(engine, 'connect', rec);
  refreshHosts(engine, Object.keys(rec.Networks));
}

/**
 * After the container's run (its poststop DEL has run, or could not): detach what the hook
 * state still records, release any address still allocated to the container, and let the
 * neighbours forget it. `rec` null (a record that cannot be read): every network is searched.
 * Idempotent; throws after doing all it can when something could not be undone.
 */
export function releaseNetworks(engine: Engine, id: string, rec: ContainerRecord | null): void {
  if (rec && isModeWithoutNetworks(rec.HostConfig.NetworkMode)) return;
  const store = engine.networks;
  let first: unknown;
  const nets = rec ? Object.keys(rec.Networks).map((n) => store.read(n)).filter((n): n is NetworkInfo => n !== null) : store.list();
  if (existsSync(join(store.hookStateDir, id))) {
    try {
      detach(id, hookSpec(store));
    } catch (e) {
      if (!(e instanceof CniError && e.code === ErrCode.DecodingFailure)) first = e;
      else {
        // Its state is damaged: detach by what mydocker knows — the networks, and the
        // interfaces that hold addresses or that a start would have used.
        try {
          const guesses = Array.from({ length: nets.length }, (_, k) => `eth${k}`);
          const known = nets.flatMap((n) => {
            const held = store.holders(n).filter((h) => h.containerId === id).map((h) => h.ifname);
            return [...new Set([...held, ...guesses])].map((ifname) => ({ network: n.name, ifname }));
          });
          detachKnown(id, hookSpec(store), known);
        } catch (e2) {
          first = e2;
        }
      }
    }
  }
  for (const net of nets) {
    try {
      const ipam = store.ipamOf(net);
      for (const h of store.holders(net)) if (h.containerId === id) release(ipam, id, h.ifname);
    } catch (e) {
      first ??= e;
    }
  }
  try {
    refreshHosts(engine, nets.map((n) => n.name));
  } catch (e) {
    first ??= e;
  }
  if (first) throw cniError(first);
}

/** The host ports a running container publishes (its first network's). */
export function publishedPorts(engine: Engine, id: string): PortMapping[] {
  return endpoints(engine.networks.hookStateDir, id).flatMap((e) => e.ports);
}

const endpointId = (networkId: string, containerId: string, ifname: string) => createHash('sha256').update(`${networkId}\0${containerId}\0${ifname}`).digest('hex');

/** inspect's NetworkSettings, docker's shape, from what is attached now. */
export function networkSettings(engine: Engine, rec: ContainerRecord, running: boolean): Record<string, unknown> {
  const mode = rec.HostConfig.NetworkMode;
  const eps: Endpoint[] = running && !isModeWithoutNetworks(mode) ? endpoints(engine.networks.hookStateDir, rec.Id) : [];
  const networks: Record<string, unknown> = {};
  const entry = (att: Partial<NetworkAttachment>, networkId: string, ep?: Endpoint) => ({
    IPAMConfig: att.IPAMConfig ?? null,
    Links: null,
    Aliases: att.Aliases ?? null,
    NetworkID: networkId,
    EndpointID: ep ? endpointId(networkId, rec.Id, ep.ifname) : '',
    Gateway: ep?.gateway ?? '',
    IPAddress: ep?.ip ?? '',
    IPPrefixLen: ep?.prefix ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: ep?.mac ?? '',
    DriverOpts: null,
  });
  const pseudo = engine.networks.pseudo().find((x) => x.name === mode);
  if (pseudo) networks[mode] = entry({}, pseudo.id); // (another container's network: none of its own)
  for (const [name, att] of Object.entries(rec.Networks)) networks[name] = entry(att, att.NetworkID, eps.find((e) => e.network === name));
  const bridge = eps.find((e) => e.network === DEFAULT_NETWORK);
  const ports = eps.flatMap((e) => e.ports);
  return {
    Bridge: '',
    SandboxID: eps.length ? createHash('sha256').update(`sandbox\0${rec.Id}`).digest('hex') : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: running && !isModeWithoutNetworks(mode) ? networkSettingsPorts(rec.Config, ports) : {},
    SandboxKey: eps.length ? join(engine.networks.hookStateDir, rec.Id, 'netns') : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge ? endpointId(rec.Networks[DEFAULT_NETWORK]?.NetworkID ?? '', rec.Id, bridge.ifname) : '',
    Gateway: bridge?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: bridge?.ip ?? '',
    IPPrefixLen: bridge?.prefix ?? 0,
    IPv6Gateway: '',
    MacAddress: bridge?.mac ?? '',
    Networks: networks,
  };
}

export interface ConnectOptions {
  ip?: string;
  aliases?: string[];
}

/** `network connect`: a running container is attached at once; a stopped one at its next start. */
export function connect(engine: Engine, id: string, netRef: string, o: ConnectOptions = {}): void {
  const store = engine.networks;
  const net = networkNamed(store, netRef);
  const unlock = engine.containers.lock(id);
  if (!unlock) throw new MydockerError(`No such container: ${id}`);
  try {
    const rec = engine.containers.read(id);
    const mode = rec.HostConfig.NetworkMode;
    if (isModeWithoutNetworks(mode)) throw new ConflictError(`container ${rec.Name} cannot be connected to network ${net.name}: it runs with --network ${mode}`);
    if (rec.Networks[net.name]) throw new ConflictError(`endpoint with name ${rec.Name} already exists in network ${net.name}`);
    const att: NetworkAttachment = { NetworkID: net.id, Aliases: checkAliases(net, o.aliases ?? [], '--alias'), IPAMConfig: o.ip !== undefined ? { IPv4Address: checkFixedIp(net, o.ip, '--ip') } : null };
    const live = liveState(engine, rec);
    if (live.Running) {
      const used = new Set(endpoints(store.hookStateDir, id).map((e) => e.ifname));
      let k = 0;
      while (used.has(`eth${k}`)) k++;
      const ifname = `eth${k}`;
      store.ensureLink(net);
      const ipam = store.ipamOf(net);
      try {
        const ip = allocate(ipam, id, ifname, o.ip ? [parseIPv4(o.ip, '--ip')] : []).ips[0]!.address.split('/')[0]!;
        // A second network: its default route would clash with the first one's.
        const defaultRoute = used.size === 0;
        attach(id, live.Pid, { ...hookSpec(store), attachments: [{ network: net.name, ifname, ip, portMappings: [], defaultRoute }] }, { append: true });
      } catch (e) {
        release(ipam, id, ifname);
        throw cniError(e);
      }
    }
    rec.Networks[net.name] = att;
    engine.containers.write(rec);
    emitNetwork(engine, 'connect', net.id, net.name, id);
    if (live.Running) refreshHosts(engine, Object.keys(rec.Networks));
  } finally {
    unlock();
  }
}

/** `network disconnect`: detached at once when running; `force` also takes a network that is gone. */
export function disconnect(engine: Engine, id: string, netRef: string, force = false): void {
  const store = engine.networks;
  const net = store.find(netRef);
  if (!net && !force) throw new MydockerError(`network ${netRef} not found`);
  const name = net?.name ?? netRef;
  const unlock = engine.containers.lock(id);
  if (!unlock) throw new MydockerError(`No such container: ${id}`);
  try {
    const rec = engine.containers.read(id);
    if (!rec.Networks[name]) throw new ConflictError(`container ${rec.Name} is not connected to network ${name}`);
    const others = Object.keys(rec.Networks);
    if (liveState(engine, rec).Running) {
      try {
        detachOne(id, hookSpec(store), name);
        if (net) for (const h of store.holders(net)) if (h.containerId === id) release(store.ipamOf(net), id, h.ifname);
      } catch (e) {
        throw cniError(e);
      }
    }
    const netId = rec.Networks[name]!.NetworkID ?? name;
    delete rec.Networks[name];
    engine.containers.write(rec);
    emitNetwork(engine, 'disconnect', netId, name, id);
    refreshHosts(engine, others, id);
  } finally {
    unlock();
  }
}
