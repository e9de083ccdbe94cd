// mydocker-bridge's network configuration: the reference bridge plugin's keys, so a conflist
// written for `bridge` works by changing `type`:
//
//   {
//     "cniVersion": "1.0.0", "name": "mynet", "type": "mydocker-bridge",
//     "bridge": "mdk0",          default "cni0"; at most 15 bytes
//     "isGateway": true,         the gateway address goes on the bridge, ip_forward is turned on
//     "isDefaultGateway": false, also a default route through it (implies isGateway)
//     "forceAddress": false,     replace another IPv4 address of the bridge instead of failing
//     "ipMasq": true,            masquerade traffic from the container that leaves the subnet
//     "hairpinMode": false,      let a container reach itself through a host port (bridge port hairpin)
//     "internal": false,         ours (docker's --internal): nothing is forwarded between the subnet
//                                and anywhere else; no masquerade, no port maps
//     "mtu": 1500,               bridge and veth MTU (default: the kernel's)
//     "ipam": { "type": "mydocker-ipam" | "host-local" | ..., ... },   absent: layer 2 only
//     "capabilities": { "portMappings": true, "ips": true, "mac": true },
//     "stateDir": "/run/mydocker-cni"   ours: attachment records and the host port registry
//   }
//
// Port maps come from runtimeConfig.portMappings (the portMappings capability): the bridge does
// the reference portmap plugin's job itself. A key of the reference plugin that we do not
// implement (vlan, vlanTrunk, promiscMode, macspoofchk, enabledad) is refused, not ignored.
import { CniError, ErrCode, NETWORK_NAME_RE, parseCniArgs } from '../cni/types.js';
import { validateIfname, type CniRequest } from '../cni/skel.js';
import { parseMac } from '../rtnetlink.js';
import { parsePortMappings, type PortMapping } from './ports.js';

export const DEFAULT_STATE_DIR = '/run/mydocker-cni';

export interface BridgeConf {
  cniVersion: string;
  name: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  hairpinMode: boolean;
  internal: boolean;
  mtu: number;
  /** The IPAM plugin's type, or '' for a layer-2-only network. */
  ipamType: string;
  portMappings: PortMapping[];
  mac?: Buffer;
  stateDir: string;
}

function invalid(msg: string): never {
  throw new CniError(ErrCode.InvalidConfig, msg);
}

function bool(c: Record<string, unknown>, key: string, dflt = false): boolean {
  const v = c[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') invalid(`${key}: must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

const UNSUPPORTED = ['vlan', 'vlanTrunk', 'promiscMode', 'macspoofchk', 'enabledad'];

export function parseBridgeConf(req: Pick<CniRequest, 'config' | 'args'>): BridgeConf {
  const c = req.config;
  if (typeof c.name !== 'string' || !NETWORK_NAME_RE.test(c.name)) invalid(`name: ${JSON.stringify(c.name)} is not a valid network name (letters, digits, "_", "." and "-")`);
  for (const k of UNSUPPORTED) {
    if (c[k] !== undefined && c[k] !== false && c[k] !== 0 && c[k] !== null) {
      throw new CniError(ErrCode.UnsupportedField, `${k}: not supported by mydocker-bridge`, 'use the reference bridge plugin for VLANs, promiscuous mode, MAC spoof checks or IPv6 DAD');
    }
  }
  const bridge = c.bridge ?? 'cni0';
  if (typeof bridge !== 'string') invalid(`bridge: must be a string (got ${JSON.stringify(bridge)})`);
  try {
    validateIfname(bridge, 'bridge');
  } catch (e) {
    invalid((e as Error).message);
  }
  const mtu = c.mtu ?? 0;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || (mtu !== 0 && (mtu < 68 || mtu > 65535))) invalid(`mtu: ${JSON.stringify(mtu)} must be an integer from 68 to 65535`);
  let ipamType = '';
  if (c.ipam !== undefined && c.ipam !== null) {
    const ipam = c.ipam as Record<string, unknown>;
    if (typeof ipam !== 'object' || Array.isArray(ipam)) invalid('ipam: must be an object');
    if (ipam.type !== undefined && (typeof ipam.type !== 'string')) invalid(`ipam.type: must be a plugin name (got ${JSON.stringify(ipam.type)})`);
    ipamType = (ipam.type as string | undefined) ?? '';
  }
  const isDefaultGateway = bool(c, 'isDefaultGateway');
  const conf: BridgeConf = {
    cniVersion: c.cniVersion as string,
    name: c.name,
    bridge,
    isGateway: bool(c, 'isGateway') || isDefaultGateway,
    isDefaultGateway,
    forceAddress: bool(c, 'forceAddress'),
    ipMasq: bool(c, 'ipMasq'),
    hairpinMode: bool(c, 'hairpinMode'),
    internal: bool(c, 'internal'),
    mtu,
    ipamType,
    portMappings: [],
    stateDir: DEFAULT_STATE_DIR,
  };
  if (c.stateDir !== undefined) {
    if (typeof c.stateDir !== 'string' || !c.stateDir.startsWith('/')) invalid(`stateDir: ${JSON.stringify(c.stateDir)} must be an absolute path`);
    conf.stateDir = c.stateDir;
  }
  const rc = (c.runtimeConfig ?? {}) as Record<string, unknown>;
  try {
    conf.portMappings = parsePortMappings(rc.portMappings);
  } catch (e) {
    invalid((e as Error).message);
  }
  if (conf.portMappings.length && !ipamType) invalid('runtimeConfig.portMappings: a layer-2-only network (no ipam) cannot map ports');
  if (conf.internal && conf.ipMasq) invalid('internal: an internal network cannot also masquerade (ipMasq)');
  if (conf.internal && conf.portMappings.length) invalid('runtimeConfig.portMappings: an internal network publishes no ports');
  if ((conf.ipMasq || conf.isGateway) && !ipamType) invalid(`${conf.ipMasq ? 'ipMasq' : 'isGateway'}: needs addresses (an ipam section)`);
  // The container's MAC, as the reference plugin reads it: CNI_ARGS MAC=, args.cni.mac, runtimeConfig.mac.
  const args = c.args as { cni?: { mac?: unknown } } | undefined;
  const macs: Array<[unknown, string]> = [
    [parseCniArgs(req.args).get('MAC'), 'CNI_ARGS MAC'],
    [args?.cni?.mac, 'args.cni.mac'],
    [rc.mac, 'runtimeConfig.mac'],
  ];
  for (const [v, what] of macs) {
    if (v === undefined || v === '') continue;
    try {
      conf.mac = parseMac(String(v), what);
    } catch (e) {
      invalid((e as Error).message);
    }
  }
  return conf;
}
