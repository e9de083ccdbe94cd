// mydocker's networks: create, find, list, remove. A network is its conflist in
// <lib>/networks (config.ts) plus its bridge on the host (host.ts); its run-time state — who
// holds which address, the plugin's records, the hook's per-container state — lives under
// <run>/networks, so `--root` moves all of it and two roots never see each other's networks.
//
// Order of the steps, so that a mydocker killed at any point leaves something the next
// command finishes: create writes the conflist, then makes the bridge (a missing bridge is
// made again when a container joins); rm drops the IPAM store and the bridge, then the
// conflist (a conflist whose bridge is gone is still listed, and `network rm` finishes it).
import { emitNetwork } from '../events/journal.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../../container/store.js';
import { allocations, dropNetwork, type Held } from '../../network/ipam/allocator.js';
import { type IpamConfig, parseIpamConfig } from '../../network/ipam/config.js';
import { type Cidr, formatIPv4, overlaps, parseCidr } from '../../network/ip4.js';
import { crashPoint } from '../crash.js';
import { ConflictError, InputError, MydockerError, NotFoundError } from '../errors.js';
import type { DataRoot } from '../paths.js';
import {
  addressPlan,
  type AddressPlan,
  bridgeName,
  conflistFor,
  DEFAULT_NETWORK,
  type NetworkInfo,
  newNetworkId,
  parseNetworkFile,
  PSEUDO_NETWORKS,
  type StateDirs,
  validateNetworkName,
} from './config.js';
import { describeHostNet, ensureBridge, deleteBridge, hostConflict, hostNetworks, linkExists, pickSubnet, withHostLock } from './host.js';

export interface CreateNetworkRequest {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  mtu?: number;
  internal?: boolean;
}

/** A pseudo network (host, none) as `network ls` and `inspect` show it. */
export interface PseudoNetwork {
  name: 'host' | 'none';
  id: string;
  driver: 'host' | 'null';
}

export class NetworkStore {
  /** Where the conflists are: the hook's org.mydocker.cni.confdir. */
  readonly confDir: string;
  readonly stateDir: string;
  readonly dirs: StateDirs;
  /** The hook's org.mydocker.cni.statedir. */
  readonly hookStateDir: string;
  /** Where its events go (the journal under the run tree). */
  private readonly journal: { paths: { run: string } };

  constructor(paths: DataRoot) {
    this.journal = { paths: { run: paths.run } };
    this.confDir = paths.networks;
    this.stateDir = paths.networkState;
    this.dirs = { ipam: join(this.stateDir, 'ipam'), plugin: join(this.stateDir, 'cni') };
    this.hookStateDir = join(this.stateDir, 'containers');
  }

  private path(name: string): string {
    return join(this.confDir, `${name}.conflist`);
  }

  /** A network by exact name, or null. */
  read(name: string): NetworkInfo | null {
    let text: string;
    try {
      text = readFileSync(this.path(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return parseNetworkFile(text, this.path(name));
  }

  /** Every network (the default one only once it exists), sorted by name as docker lists them. */
  list(): NetworkInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.confDir);
    } catch {
      return [];
    }
    const out: NetworkInfo[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith('.conflist') || n.startsWith('.')) continue;
      try {
        const net = this.read(n.slice(0, -'.conflist'.length));
        if (net) out.push(net);
      } catch {
        /* a damaged file: `network rm NAME` removes it, nothing else uses it */
      }
    }
    return out;
  }

  pseudo(): PseudoNetwork[] {
    const id = (name: string) => createHash('sha256').update(`${this.confDir}\0${name}`).digest('hex');
    return (Object.keys(PSEUDO_NETWORKS) as Array<'host' | 'none'>).map((name) => ({ name, id: id(name), driver: PSEUDO_NETWORKS[name] }));
  }

  /** A network by name, full id or unique id prefix (docker's order); null when none matches. */
  find(ref: string): NetworkInfo | null {
    if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(ref)) {
      const byName = this.read(ref);
      if (byName) return byName;
    }
    if (!/^[0-9a-f]+$/.test(ref)) return null;
    const all = this.list();
    const full = all.find((n) => n.id === ref);
    if (full) return full;
    const prefixed = all.filter((n) => n.id.startsWith(ref));
    if (prefixed.length > 1) throw new InputError(`network ${ref} is ambiguous (${prefixed.length} matches found on id prefix)`);
    return prefixed[0] ?? null;
  }

  get(ref: string): NetworkInfo {
    const n = this.find(ref);
    if (!n) throw new NotFoundError('network', ref);
    return n;
  }

  /** The default network, made on first need (docker's "bridge", 172.17.0.0/16 when free). */
  ensureDefault(): NetworkInfo {
    return this.read(DEFAULT_NETWORK) ?? this.create({ name: DEFAULT_NETWORK }, true);
  }

  /** `network create`. With `builtin`, an existing network of that name is returned instead. */
  create(req: CreateNetworkRequest, builtin = false): NetworkInfo {
    const name = validateNetworkName(req.name);
    if (req.driver !== undefined && req.driver !== 'bridge') {
      throw new InputError(`-d ${req.driver}: plugin "${req.driver}" not found (mydocker has the bridge driver only)`);
    }
    if (!builtin && (name in PSEUDO_NETWORKS || name === DEFAULT_NETWORK)) throw new ConflictError(`network with name ${name} already exists`);
    if (req.subnet === undefined && (req.gateway !== undefined || req.ipRange !== undefined)) {
      throw new InputError(`${req.gateway !== undefined ? '--gateway' : '--ip-range'}: needs --subnet (every ip-range or gateway must have a corresponding subnet)`);
    }
    // Docker has its default network before any other: it gets the first pool entry.
    if (!builtin) this.ensureDefault();
    const given = req.subnet !== undefined ? addressPlan(req.subnet, req.gateway, req.ipRange) : null;
    return withHostLock(() => {
      const existing = this.read(name);
      if (existing) {
        if (builtin) return existing;
        throw new ConflictError(`network with name ${name} already exists`);
      }
      const mine = this.list();
      const host = hostNetworks();
      let plan: AddressPlan;
      if (given) {
        const clash = mine.find((n) => overlaps(parseCidr(n.subnet, 'subnet'), given.subnet));
        if (clash) throw new ConflictError(`--subnet ${req.subnet}: Pool overlaps with other one on this address space (network ${clash.name}, ${clash.subnet})`);
        const h = hostConflict(given.subnet, host);
        if (h) throw new ConflictError(`--subnet ${req.subnet}: overlaps the host's network ${describeHostNet(h)}`);
        plan = given;
      } else {
        const subnet = pickSubnet(mine.map((n) => parseCidr(n.subnet, 'subnet')), host);
        if (!subnet) throw new MydockerError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
        plan = { subnet, gateway: subnet.ip + 1, ipRange: null };
      }
      let id = newNetworkId();
      // The bridge's name is the id's first 12 digits: never one a link of the host has.
      while (linkExists(bridgeName(id)) || mine.some((n) => n.id.slice(0, 12) === id.slice(0, 12))) id = newNetworkId();
      mkdirSync(this.confDir, { recursive: true, mode: 0o700 });
      const conf = conflistFor({ name, id, plan, mtu: req.mtu ?? 0, labels: req.labels ?? {}, options: req.options ?? {}, builtin, internal: !!req.internal }, this.dirs);
      writeAtomic(this.path(name), `${JSON.stringify(conf, null, 1)}\n`, 0o644);
      crashPoint('network:config-written');
      ensureBridge(bridgeName(id), plan.gateway, plan.subnet, req.mtu ?? 0);
      if (!builtin) emitNetwork(this.journal, 'create', id, name); // (docker's default network is there from its daemon's start: no event)
      return this.read(name)!;
    });
  }

  /** mydocker-ipam's view of a network (its allocations live in <run>/networks/ipam/<name>). */
  ipamOf(net: NetworkInfo): IpamConfig {
    const plugin = net.list.plugins[0]!;
    return parseIpamConfig({ ...plugin, name: net.name });
  }

  /** Who holds an address in the network (pre-allocated or attached). */
  holders(net: NetworkInfo): Held[] {
    return allocations(this.ipamOf(net));
  }

  /** `network rm`: refused while a container holds an address in it, and for the default one. */
  remove(net: NetworkInfo, names: (id: string) => string = (id) => id): void {
    if (net.builtin) throw new ConflictError(`${net.name} is a pre-defined network and cannot be removed`);
    const held = this.holders(net);
    if (held.length) {
      const who = [...new Set(held.map((h) => names(h.containerId)))].join(', ');
      throw new ConflictError(`error while removing network: network ${net.name} id ${net.id} has active endpoints (${who})`);
    }
    try {
      dropNetwork(this.ipamOf(net));
    } catch (e) {
      throw new ConflictError(`error while removing network: network ${net.name} id ${net.id} has active endpoints (${(e as Error).message})`);
    }
    deleteBridge(net.bridge);
    crashPoint('network:bridge-deleted');
    rmSync(this.path(net.name), { force: true });
    emitNetwork(this.journal, 'destroy', net.id, net.name);
  }

  /** Remove a network file that cannot be read (`network rm NAME` of a damaged config). */
  removeDamaged(name: string): boolean {
    try {
      readFileSync(this.path(name));
    } catch {
      return false;
    }
    rmSync(this.path(name), { force: true });
    return true;
  }

  /**
   * Before a container joins: the bridge is there (made again after a reboot, or after someone
   * deleted it), unless its subnet is now the host's elsewhere.
   */
  ensureLink(net: NetworkInfo): void {
    if (linkExists(net.bridge)) return;
    withHostLock(() => {
      if (linkExists(net.bridge)) return;
      const subnet: Cidr = parseCidr(net.subnet, 'subnet');
      const h = hostConflict(subnet, hostNetworks(), net.bridge);
      if (h) throw new MydockerError(`network ${net.name}: its subnet ${net.subnet} now overlaps the host's network ${describeHostNet(h)}; remove one of them`);
      const gw = net.gateway ? net.gateway : formatIPv4(subnet.ip + 1);
      ensureBridge(net.bridge, parseCidr(`${gw}/32`, 'gateway').ip, subnet, net.mtu);
    });
  }
}
