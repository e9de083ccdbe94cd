// rtnetlink: links, addresses and routes as netlink messages (the socket is src/kernel/netlink.ts).
// One process and a handful of datagrams instead of a dozen `ip` runs.
//
// Message layouts (linux/rtnetlink.h, linux/if_link.h; little-endian hosts):
//   struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index; u32 flags; u32 change; }   16 bytes
//   struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }           8 bytes
//   struct rtmsg     { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; } 12 bytes
//   struct rtattr    { u16 len; u16 type; data; } padded to 4 bytes
import { KernelError } from '../kernel/ffi.js';
import { Netlink, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, type NlRequest } from '../kernel/netlink.js';
import { formatIPv4 } from './ip4.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_SETLINK = 19;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_BRIDGE = 7;
export const IFF_UP = 0x1;
const NLA_F_NESTED = 0x8000;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_PROTINFO = 12;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT_MODE = 4; // hairpin

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RTN_UNICAST = 1;

export const IF_OPER_UP = 6;

// ---- encoding ----

const align4 = (n: number) => (n + 3) & ~3;

export function attr(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc(align4(4 + data.length));
  out.writeUInt16LE(4 + data.length, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}
const attrStr = (type: number, s: string) => attr(type, Buffer.from(`${s}\0`));
function attrU32(type: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return attr(type, b);
}
const attrU8 = (type: number, n: number) => attr(type, Buffer.from([n]));
const attrNested = (type: number, children: Buffer[]) => attr(type, Buffer.concat(children));
function attrIPv4(type: number, ip: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ip >>> 0);
  return attr(type, b);
}

export function ifinfomsg(family: number, index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

function ifaddrmsg(family: number, prefixlen: number, scope: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

function rtmsg(dstLen: number, scope: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(dstLen, 1);
  b.writeUInt8(RT_TABLE_MAIN, 4);
  b.writeUInt8(RTPROT_BOOT, 5);
  b.writeUInt8(scope, 6);
  b.writeUInt8(RTN_UNICAST, 7);
  return b;
}

export function parseMac(mac: string, what: string): Buffer {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new RangeError(`${what}: ${JSON.stringify(mac)} is not a MAC address (like 02:42:ac:11:00:02)`);
  const b = Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
  if (b[0]! & 1) throw new RangeError(`${what}: ${mac} is a multicast address`);
  return b;
}

export const formatMac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** A random locally administered unicast MAC. */
export function randomMac(): Buffer {
  const b = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) b[i] = Math.floor(Math.random() * 256);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return b;
}

// ---- decoding ----

export function parseAttrs(buf: Buffer, offset: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = offset;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > buf.length) break;
    out.set(type, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

const cstr = (b: Buffer | undefined) => (b ? b.toString('utf8').replace(/\0.*$/s, '') : '');

export interface Link {
  index: number;
  name: string;
  flags: number;
  mtu: number;
  mac: string;
  /** Index of the bridge it is enslaved to, 0 if none. */
  master: number;
  /** IFLA_INFO_KIND: 'bridge', 'veth', ... ('' for a device without one, like lo). */
  kind: string;
  operstate: number;
}

function parseLink(body: Buffer): Link {
  const a = parseAttrs(body, 16);
  const info = a.get(IFLA_LINKINFO);
  return {
    index: body.readInt32LE(4),
    flags: body.readUInt32LE(8),
    name: cstr(a.get(IFLA_IFNAME)),
    mtu: a.get(IFLA_MTU)?.readUInt32LE(0) ?? 0,
    mac: a.get(IFLA_ADDRESS)?.length === 6 ? formatMac(a.get(IFLA_ADDRESS)!) : '',
    master: a.get(IFLA_MASTER)?.readUInt32LE(0) ?? 0,
    kind: info ? cstr(parseAttrs(info, 0).get(IFLA_INFO_KIND)) : '',
    operstate: a.get(IFLA_OPERSTATE)?.readUInt8(0) ?? 0,
  };
}

export interface Addr {
  index: number;
  ip: number;
  prefix: number;
}

export interface Route {
  dst: number;
  prefix: number;
  gateway: number | null;
  oif: number;
  table: number;
}

// ---- operations ----

export interface VethSpec {
  /** Host-side name (in the socket's netns). */
  hostName: string;
  /** Container-side name, created in the netns `peerNsFd` refers to. */
  peerName: string;
  peerNsFd: number;
  /** Bridge to enslave the host side to (ifindex). */
  master: number;
  mtu?: number;
  peerMac?: Buffer;
}

/** rtnetlink over one socket (one network namespace). */
export class Rtnl {
  constructor(readonly nl: Netlink) {}

  static open(): Rtnl {
    return new Rtnl(Netlink.open());
  }

  close(): void {
    this.nl.close();
  }

  /** The link named `name`, or null when there is none. */
  link(name: string): Link | null {
    try {
      const [m] = this.nl.query({ type: RTM_GETLINK, flags: 0, body: Buffer.concat([ifinfomsg(AF_UNSPEC, 0), attrStr(IFLA_IFNAME, name)]), what: `RTM_GETLINK ${name}` });
      return m ? parseLink(m.body) : null;
    } catch (e) {
      if (e instanceof KernelError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return null;
      throw e;
    }
  }

  linkByIndex(index: number): Link | null {
    try {
      const [m] = this.nl.query({ type: RTM_GETLINK, flags: 0, body: ifinfomsg(AF_UNSPEC, index), what: `RTM_GETLINK #${index}` });
      return m ? parseLink(m.body) : null;
    } catch (e) {
      if (e instanceof KernelError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return null;
      throw e;
    }
  }

  /** Create a bridge, up, with a fixed MAC (so it does not follow its ports as they come and go). */
  createBridgeRequest(name: string, mac: Buffer, mtu?: number): NlRequest {
    const attrs = [attrStr(IFLA_IFNAME, name), attr(IFLA_ADDRESS, mac), attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'bridge')])];
    if (mtu) attrs.push(attrU32(IFLA_MTU, mtu));
    return { type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, body: Buffer.concat([ifinfomsg(AF_UNSPEC, 0, IFF_UP, IFF_UP), ...attrs]), what: `RTM_NEWLINK bridge ${name}` };
  }

  /** Set a link up (by name). */
  upRequest(name: string): NlRequest {
    return { type: RTM_NEWLINK, flags: 0, body: Buffer.concat([ifinfomsg(AF_UNSPEC, 0, IFF_UP, IFF_UP), attrStr(IFLA_IFNAME, name)]), what: `RTM_NEWLINK ${name} up` };
  }

  /**
   * A veth pair in one message: the host side enslaved to the bridge and up, the peer created
   * directly in the container's netns (IFLA_NET_NS_FD), named, with its MAC and MTU.
   */
  vethRequest(v: VethSpec): NlRequest {
    const peerAttrs = [attrStr(IFLA_IFNAME, v.peerName), attrU32(IFLA_NET_NS_FD, v.peerNsFd)];
    if (v.mtu) peerAttrs.push(attrU32(IFLA_MTU, v.mtu));
    if (v.peerMac) peerAttrs.push(attr(IFLA_ADDRESS, v.peerMac));
    // The peer cannot be brought up here: veth_open() refuses (ENOTCONN) until both ends are
    // linked, which happens after the peer is configured. It goes up with its address.
    const peer = attr(VETH_INFO_PEER, Buffer.concat([ifinfomsg(AF_UNSPEC, 0), ...peerAttrs]));
    const attrs = [
      attrStr(IFLA_IFNAME, v.hostName),
      attrU32(IFLA_MASTER, v.master),
      attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'veth'), attrNested(IFLA_INFO_DATA, [peer])]),
    ];
    if (v.mtu) attrs.push(attrU32(IFLA_MTU, v.mtu));
    return { type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, body: Buffer.concat([ifinfomsg(AF_UNSPEC, 0, IFF_UP, IFF_UP), ...attrs]), what: `RTM_NEWLINK veth ${v.hostName}/${v.peerName}` };
  }

  /** Hairpin mode of a bridge port (IFLA_BRPORT_MODE, through AF_BRIDGE). */
  hairpinRequest(index: number, on: boolean, name: string): NlRequest {
    return {
      type: RTM_SETLINK,
      flags: 0,
      body: Buffer.concat([ifinfomsg(AF_BRIDGE, index), attrNested(IFLA_PROTINFO | NLA_F_NESTED, [attrU8(IFLA_BRPORT_MODE, on ? 1 : 0)])]),
      what: `RTM_SETLINK ${name} hairpin`,
    };
  }

  addressRequest(index: number, ip: number, prefix: number, broadcast: number | null, name: string): NlRequest {
    const attrs = [attrIPv4(IFA_LOCAL, ip), attrIPv4(IFA_ADDRESS, ip)];
    if (broadcast !== null) attrs.push(attrIPv4(IFA_BROADCAST, broadcast));
    return {
      type: RTM_NEWADDR,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      body: Buffer.concat([ifaddrmsg(AF_INET, prefix, RT_SCOPE_UNIVERSE, index), ...attrs]),
      what: `RTM_NEWADDR ${formatIPv4(ip)}/${prefix} on ${name}`,
    };
  }

  deleteAddressRequest(index: number, ip: number, prefix: number, name: string): NlRequest {
    return {
      type: RTM_DELADDR,
      flags: 0,
      body: Buffer.concat([ifaddrmsg(AF_INET, prefix, RT_SCOPE_UNIVERSE, index), attrIPv4(IFA_LOCAL, ip)]),
      what: `RTM_DELADDR ${formatIPv4(ip)}/${prefix} on ${name}`,
    };
  }

  routeRequest(r: { dst: number; prefix: number; gateway: number | null; oif: number }): NlRequest {
    const attrs = [attrU32(RTA_OIF, r.oif)];
    if (r.prefix > 0) attrs.push(attrIPv4(RTA_DST, r.dst));
    if (r.gateway !== null) attrs.push(attrIPv4(RTA_GATEWAY, r.gateway));
    return {
      type: RTM_NEWROUTE,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      body: Buffer.concat([rtmsg(r.prefix, r.gateway === null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE), ...attrs]),
      what: `RTM_NEWROUTE ${formatIPv4(r.dst)}/${r.prefix}${r.gateway !== null ? ` via ${formatIPv4(r.gateway)}` : ''}`,
    };
  }

  /** Delete a link by name; false when it did not exist. */
  deleteLink(name: string): boolean {
    try {
      this.nl.ack({ type: RTM_DELLINK, flags: 0, body: Buffer.concat([ifinfomsg(AF_UNSPEC, 0), attrStr(IFLA_IFNAME, name)]), what: `RTM_DELLINK ${name}` });
      return true;
    } catch (e) {
      if (e instanceof KernelError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return false;
      throw e;
    }
  }

  /** IPv4 addresses (of one link when `index` is given). */
  addresses(index?: number): Addr[] {
    const msgs = this.nl.query({ type: RTM_GETADDR, flags: NLM_F_DUMP, body: ifaddrmsg(AF_INET, 0, 0, 0), what: 'RTM_GETADDR' });
    const out: Addr[] = [];
    for (const m of msgs) {
      const idx = m.body.readUInt32LE(4);
      if (index !== undefined && idx !== index) continue;
      const a = parseAttrs(m.body, 8);
      const local = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
      if (local?.length === 4) out.push({ index: idx, ip: local.readUInt32BE(0), prefix: m.body.readUInt8(1) });
    }
    return out;
  }

  /** IPv4 unicast routes of the main table. */
  routes(): Route[] {
    const msgs = this.nl.query({ type: RTM_GETROUTE, flags: NLM_F_DUMP, body: Buffer.alloc(12, 0).fill(AF_INET, 0, 1), what: 'RTM_GETROUTE' });
    const out: Route[] = [];
    for (const m of msgs) {
      const a = parseAttrs(m.body, 12);
      const table = a.get(RTA_TABLE)?.readUInt32LE(0) ?? m.body.readUInt8(4);
      if (table !== RT_TABLE_MAIN || m.body.readUInt8(7) !== RTN_UNICAST) continue;
      out.push({
        dst: a.get(RTA_DST)?.readUInt32BE(0) ?? 0,
        prefix: m.body.readUInt8(1),
        gateway: a.get(RTA_GATEWAY)?.readUInt32BE(0) ?? null,
        oif: a.get(RTA_OIF)?.readUInt32LE(0) ?? 0,
        table,
      });
    }
    return out;
  }
}
