// mydocker-bridge: a CNI plugin that attaches a container to a Linux bridge through a veth
// pair, with its address from the IPAM plugin `ipam.type` names, masquerading, forwarding and
// port maps (config.ts lists the keys).
//
// ADD, in order (each step undone, newest first, if a later one fails), holding the
// attachment's lock (records.ts):
//   1. the container's netns is opened and CNI_IFNAME must be free in it;
//   2. IPAM ADD (mydocker-ipam in-process, any other plugin spawned from CNI_PATH);
//   3. under the state lock: the host ports are claimed and the attachment record written
//      (records.ts) — both before any rule exists;
//   4. the bridge (created with a fixed MAC, up; the gateway address when isGateway;
//      ip_forward; route_localnet on the bridge when ports are mapped);
//   5. one RTM_NEWLINK makes the veth pair: "veth<tag>" on the host, enslaved and up, and
//      CNI_IFNAME created directly in the container's netns; hairpin mode if asked;
//   6. in the netns, one netlink datagram: lo and CNI_IFNAME up, the address, the routes;
//   7. one iptables-restore transaction (firewall.ts).
// DEL: delete veth<tag> (its peer goes with it), the tagged rules, the IPAM allocation, the
// ports and the record. It needs neither the netns nor prevResult, and a second DEL finds
// nothing to do.
//
// Sysctls changed (never restored, as the reference plugin does): net.ipv4.ip_forward=1 when
// isGateway; net.ipv4.conf.<bridge>.route_localnet=1 when ports are mapped (goes with the bridge).
// The bridge and its gateway address stay after the last DEL (a network outlives its
// containers); `ip link del <bridge>` removes both, and nothing else refers to them.
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { KernelError } from '../../kernel/ffi.js';
import { builtins, execPlugin } from '../cni/exec.js';
import type { CniPlugin, CniRequest } from '../cni/skel.js';
import { CniError, type CniIPConfig, type CniResult, ErrCode, normalizeResult, type CniRoute } from '../cni/types.js';
import { broadcastOf, type Cidr, formatIPv4, networkOf, parseCidr, parseIPv4, subnetString } from '../ip4.js';
import { validAttachments } from '../ipam/plugin.js';
import { openNetns, rtnlIn } from '../netns.js';
import { IFF_UP, randomMac, Rtnl } from '../rtnetlink.js';
import { parseBridgeConf, type BridgeConf } from './config.js';
import { addTransaction, delTransaction, deleteFromSave, type FirewallSpec, missingFromSave } from './firewall.js';
import { iptablesRestore, iptablesSave, findTool } from './iptables.js';
import { PortRegistry, withStateLock } from './ports.js';
import { attachmentTag, type AttachmentRecord, Records } from './records.js';
import '../ipam/plugin.js'; // registers mydocker-ipam for in-process delegation

function ipam(command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC', req: CniRequest, type: string, lock: number[] = []): CniResult | undefined {
  return execPlugin(type, { command, containerId: req.containerId, netns: req.netns, ifname: req.ifname, args: req.args, path: req.path }, req.stdin, lock);
}

function sysctl(path: string, value: string): void {
  const p = `/proc/sys/${path}`;
  try {
    if (readFileSync(p, 'utf8').trim() === value) return;
    writeFileSync(p, value);
  } catch (e) {
    throw new CniError(ErrCode.Internal, `sysctl ${path.replace(/\//g, '.')}=${value}: ${(e as Error).message}`);
  }
}

const isKernel = (e: unknown, code: string) => e instanceof KernelError && e.code === code;

/** The bridge, created if missing (fixed MAC, MTU, up); refuses a non-bridge of that name. */
function ensureBridge(host: Rtnl, conf: BridgeConf) {
  let br = host.link(conf.bridge);
  if (!br) {
    try {
      host.nl.ack(host.createBridgeRequest(conf.bridge, randomMac(), conf.mtu || undefined));
    } catch (e) {
      if (!isKernel(e, 'EEXIST')) throw e; // created by a parallel ADD
    }
    br = host.link(conf.bridge);
    if (!br) throw new CniError(ErrCode.Internal, `bridge ${conf.bridge}: vanished right after it was created`);
  }
  if (br.kind !== 'bridge') throw new CniError(ErrCode.InvalidConfig, `bridge: ${conf.bridge} already exists and is not a bridge (it is ${br.kind || 'a plain device'})`);
  if (!(br.flags & IFF_UP)) host.nl.ack(host.upRequest(conf.bridge));
  return br;
}

/** The gateway address on the bridge; another IPv4 address there is an error unless forceAddress. */
function ensureGatewayAddress(host: Rtnl, conf: BridgeConf, index: number, gw: number, prefix: number): void {
  const have = host.addresses(index);
  if (have.some((a) => a.ip === gw && a.prefix === prefix)) return;
  const other = have[0];
  if (other && !conf.forceAddress) {
    throw new CniError(ErrCode.InvalidConfig, `bridge ${conf.bridge} already has the address ${formatIPv4(other.ip)}/${other.prefix}, not ${formatIPv4(gw)}/${prefix} (set forceAddress to replace it)`);
  }
  // forceAddress: the reference plugin replaces it; addresses of one bridge in other subnets go too.
  if (other) host.nl.batch(have.map((a) => host.deleteAddressRequest(index, a.ip, a.prefix, conf.bridge)));
  const cidr: Cidr = { ip: gw, prefix };
  try {
    host.nl.ack(host.addressRequest(index, gw, prefix, broadcastOf(cidr), conf.bridge));
  } catch (e) {
    if (!isKernel(e, 'EEXIST')) throw e; // a parallel ADD put it there
  }
}

interface V4 {
  ip: number;
  prefix: number;
  gateway: number | null;
  config: CniIPConfig;
}

function ipv4Of(result: CniResult, conf: BridgeConf): V4[] {
  return (result.ips ?? []).map((c, i) => {
    let cidr: Cidr;
    try {
      cidr = parseCidr(c.address, `IPAM result ips[${i}].address`);
    } catch (e) {
      throw new CniError(ErrCode.Internal, `${(e as Error).message} (mydocker-bridge handles IPv4 only)`);
    }
    let gateway = c.gateway ? parseIPv4(c.gateway, `IPAM result ips[${i}].gateway`) : null;
    // As the reference plugin: without a gateway from IPAM, a gateway network's is its first address.
    if (gateway === null && conf.isGateway) gateway = networkOf(cidr) + 1;
    return { ip: cidr.ip, prefix: cidr.prefix, gateway, config: { ...c, interface: 2, ...(gateway !== null ? { gateway: formatIPv4(gateway) } : {}) } };
  });
}

function firewallSpec(r: AttachmentRecord): FirewallSpec | null {
  if (!r.ip || !r.subnet) return null;
  return { tag: r.tag, network: r.network, containerId: r.containerId, ifname: r.ifname, ip: r.ip, subnet: r.subnet, ipMasq: r.ipMasq, internal: r.internal === true, ports: r.ports };
}

/** Remove the rules an attachment added: its exact inverse first, else whatever carries its tag. */
function removeRules(r: AttachmentRecord, lock: number[]): void {
  const spec = firewallSpec(r);
  if (!spec) return;
  try {
    iptablesRestore(delTransaction(spec), lock);
  } catch {
    // Some of it is gone already (a DEL that died half-way, a flushed table): delete what is there.
    iptablesRestore(deleteFromSave(iptablesSave(), r.tag), lock);
  }
}

/** The last step of a teardown: the host ports go back, then the record. */
function forget(stateDir: string, r: AttachmentRecord): void {
  withStateLock(stateDir, () => {
    new PortRegistry(stateDir).release(r.tag, r.ports);
    new Records(stateDir).remove(r.tag);
  });
}

/** Undo what a record says (veth, rules, ports, record): a failed ADD, and GC. */
function teardown(host: Rtnl, stateDir: string, r: AttachmentRecord, lock: number[]): void {
  host.deleteLink(r.hostVeth);
  removeRules(r, lock);
  forget(stateDir, r);
}

export const bridgePlugin: CniPlugin = {
  add(req: CniRequest): CniResult {
    const conf = parseBridgeConf(req);
    const tag = attachmentTag(conf.name, req.containerId, req.ifname);
    const hostVeth = `veth${tag}`;
    const undo: Array<() => void> = [];
    const records = new Records(conf.stateDir);
    const lockFd = records.lock(tag);
    const lock = [lockFd];
    let failed = false;
    let nsFd = -1;
    let host: Rtnl | undefined;
    let ctr: Rtnl | undefined;
    try {
      nsFd = openNetns(req.netns);
      host = Rtnl.open();
      ctr = rtnlIn(nsFd, `CNI_NETNS ${req.netns}`);
      if (ctr.link(req.ifname)) {
        throw new CniError(ErrCode.InterfaceExists, `interface ${req.ifname} already exists in the container's network namespace ${req.netns}`);
      }

      let ipamResult: CniResult = { cniVersion: conf.cniVersion };
      if (conf.ipamType) {
        ipamResult = normalizeResult(ipam('ADD', req, conf.ipamType, lock)) ?? ipamResult;
        undo.push(() => ipam('DEL', req, conf.ipamType, lock));
        if (!ipamResult.ips?.length) throw new CniError(ErrCode.Internal, `IPAM plugin ${conf.ipamType} returned no address`);
      }
      const v4 = ipv4Of(ipamResult, conf);
      if (v4.length > 1) throw new CniError(ErrCode.InvalidConfig, `IPAM plugin ${conf.ipamType} returned ${v4.length} addresses: mydocker-bridge gives a container one IPv4 address (use one range set)`);
      const addr = v4[0];
      const routes: CniRoute[] = [...(ipamResult.routes ?? [])];
      if (addr && conf.isDefaultGateway && addr.gateway !== null && !routes.some((r) => r.dst === '0.0.0.0/0' && r.gw)) {
        routes.push({ dst: '0.0.0.0/0', gw: formatIPv4(addr.gateway) });
      }

      const record: AttachmentRecord = {
        version: 1,
        tag,
        network: conf.name,
        containerId: req.containerId,
        ifname: req.ifname,
        bridge: conf.bridge,
        hostVeth,
        ip: addr ? formatIPv4(addr.ip) : null,
        subnet: addr ? subnetString({ ip: addr.ip, prefix: addr.prefix }) : null,
        ipMasq: conf.ipMasq,
        ...(conf.internal ? { internal: true } : {}),
        ports: conf.portMappings,
      };
      withStateLock(conf.stateDir, () => {
        // The record first: a plugin killed between the two leaves a record, whose DEL gives
        // back whatever of its ports got claimed (release takes only files this tag owns).
        records.write(record);
        try {
          new PortRegistry(conf.stateDir).claim(tag, req.containerId, conf.portMappings);
        } catch (e) {
          records.remove(tag);
          throw e;
        }
      });
      undo.push(() => teardown(host!, conf.stateDir, record, lock));

      const br = ensureBridge(host, conf);
      if (addr && conf.isGateway && addr.gateway !== null) {
        ensureGatewayAddress(host, conf, br.index, addr.gateway, addr.prefix);
        sysctl('net/ipv4/ip_forward', '1');
      }
      if (conf.portMappings.length) sysctl(`net/ipv4/conf/${conf.bridge}/route_localnet`, '1');

      const veth = host.vethRequest({ hostName: hostVeth, peerName: req.ifname, peerNsFd: nsFd, master: br.index, mtu: conf.mtu || undefined, peerMac: conf.mac });
      try {
        host.nl.ack(veth);
      } catch (e) {
        // Left by an ADD of this very attachment that died: its name is ours by construction.
        if (!isKernel(e, 'EEXIST') || !host.deleteLink(hostVeth)) throw e;
        host.nl.ack(veth);
      }
      const hostLink = host.link(hostVeth);
      const ctrLink = ctr.link(req.ifname);
      if (!hostLink || !ctrLink) throw new CniError(ErrCode.Internal, `veth ${hostVeth}/${req.ifname}: not found right after it was created`);
      if (conf.hairpinMode) host.nl.ack(host.hairpinRequest(hostLink.index, true, hostVeth));

      const inside = [ctr.upRequest('lo'), ctr.upRequest(req.ifname)];
      if (addr) {
        inside.push(ctr.addressRequest(ctrLink.index, addr.ip, addr.prefix, broadcastOf({ ip: addr.ip, prefix: addr.prefix }), req.ifname));
        routes.forEach((r, i) => {
          const dst = parseCidr(r.dst, `routes[${i}].dst`);
          const gw = r.gw ? parseIPv4(r.gw, `routes[${i}].gw`) : addr.gateway;
          inside.push(ctr!.routeRequest({ dst: networkOf(dst), prefix: dst.prefix, gateway: gw, oif: ctrLink.index }));
        });
      }
      ctr.nl.batch(inside);

      const spec = firewallSpec(record);
      if (spec) iptablesRestore(addTransaction(spec), lock);

      const brNow = host.linkByIndex(br.index) ?? br;
      return {
        cniVersion: conf.cniVersion,
        interfaces: [
          { name: conf.bridge, mac: brNow.mac },
          { name: hostVeth, mac: hostLink.mac },
          { name: req.ifname, mac: ctrLink.mac, sandbox: req.netns },
        ],
        ips: v4.map((a) => a.config),
        routes,
        dns: ipamResult.dns ?? {},
      };
    } catch (e) {
      failed = true;
      for (const u of undo.reverse()) {
        try {
          u();
        } catch {
          /* the error that brought us here is the one to report */
        }
      }
      throw e;
    } finally {
      ctr?.close();
      host?.close();
      if (nsFd >= 0) closeSync(nsFd);
      records.unlock(tag, lockFd, failed);
    }
  },

  del(req: CniRequest): void {
    const conf = parseBridgeConf(req);
    const tag = attachmentTag(conf.name, req.containerId, req.ifname);
    const records = new Records(conf.stateDir);
    const lockFd = records.lock(tag);
    const host = Rtnl.open();
    try {
      records.sweep(tag); // an ADD killed while writing the record
      const record = records.read(tag);
      // The host end takes its peer with it, wherever the container's netns is (or is not).
      host.deleteLink(`veth${tag}`);
      // Rules before the address goes back to IPAM: it must not serve a new container while
      // the old one's DNAT still points at it.
      if (record) removeRules(record, [lockFd]);
      if (conf.ipamType) ipam('DEL', req, conf.ipamType, [lockFd]);
      if (record) forget(conf.stateDir, record);
    } finally {
      host.close();
      records.unlock(tag, lockFd, true);
    }
  },

  check(req: CniRequest): void {
    const conf = parseBridgeConf(req);
    const prev = normalizeResult(req.config.prevResult);
    if (!prev) throw new CniError(ErrCode.InvalidConfig, 'prevResult: required for CHECK');
    if (conf.ipamType) ipam('CHECK', req, conf.ipamType);
    const tag = attachmentTag(conf.name, req.containerId, req.ifname);
    const record = new Records(conf.stateDir).read(tag);
    if (!record) throw new CniError(ErrCode.Internal, `no attachment of container ${req.containerId} (${req.ifname}) to network ${conf.name}`);
    const nsFd = openNetns(req.netns);
    const host = Rtnl.open();
    let ctr: Rtnl | undefined;
    try {
      const br = host.link(conf.bridge);
      if (!br || br.kind !== 'bridge') throw new CniError(ErrCode.Internal, `bridge ${conf.bridge}: not found`);
      const hv = host.link(record.hostVeth);
      if (!hv || hv.master !== br.index) throw new CniError(ErrCode.Internal, `veth ${record.hostVeth}: ${hv ? `not on bridge ${conf.bridge}` : 'not found'}`);
      ctr = rtnlIn(nsFd, `CNI_NETNS ${req.netns}`);
      const cl = ctr.link(req.ifname);
      if (!cl || cl.kind !== 'veth') throw new CniError(ErrCode.Internal, `interface ${req.ifname}: not found in ${req.netns}`);
      const have = ctr.addresses(cl.index).map((a) => `${formatIPv4(a.ip)}/${a.prefix}`);
      for (const ip of prev.ips ?? []) {
        if (!have.includes(ip.address)) throw new CniError(ErrCode.Internal, `interface ${req.ifname}: lacks ${ip.address} (has ${have.join(', ') || 'no address'})`);
      }
      const routes = ctr.routes();
      for (const r of prev.routes ?? []) {
        const dst = parseCidr(r.dst, 'prevResult route');
        if (!routes.some((x) => x.dst === networkOf(dst) && x.prefix === dst.prefix)) throw new CniError(ErrCode.Internal, `route to ${r.dst}: missing in ${req.netns}`);
      }
      const spec = firewallSpec(record);
      if (spec) {
        const missing = missingFromSave(iptablesSave(), spec);
        if (missing.length) throw new CniError(ErrCode.Internal, `firewall rules missing: ${missing.join(' | ')}`);
      }
    } finally {
      ctr?.close();
      host.close();
      closeSync(nsFd);
    }
  },

  status(req: CniRequest): void {
    const conf = parseBridgeConf(req);
    try {
      findTool('iptables-restore');
    } catch (e) {
      throw new CniError(ErrCode.NotAvailable, (e as Error).message);
    }
    if (conf.ipamType) ipam('STATUS', req, conf.ipamType);
  },

  gc(req: CniRequest): void {
    const conf = parseBridgeConf(req);
    const valid = new Set(validAttachments(req.config).map((a) => attachmentTag(conf.name, a.containerId, a.ifname)));
    const records = new Records(conf.stateDir);
    const host = Rtnl.open();
    try {
      for (const stale of records.list()) {
        if (stale.network !== conf.name || valid.has(stale.tag)) continue;
        const lockFd = records.lock(stale.tag);
        try {
          const r = records.read(stale.tag); // a DEL may have taken it meanwhile
          if (r) teardown(host, conf.stateDir, r, [lockFd]);
        } finally {
          records.unlock(stale.tag, lockFd, true);
        }
      }
    } finally {
      host.close();
    }
    if (conf.ipamType) ipam('GC', req, conf.ipamType);
  },
};

builtins.set('mydocker-bridge', bridgePlugin);
