// The annotation contract of mydocker-cni-hook, parsed (the contract itself is documented at
// the top of glue.ts). Pure: no file is read here.
import { validateIfname } from '../cni/skel.js';
import { CniError, ErrCode } from '../cni/types.js';
import { formatIPv4, parseIPv4 } from '../ip4.js';
import { parseMac } from '../rtnetlink.js';
import { parsePortSpec, type PortMapping, conflicts, describe } from '../bridge/ports.js';
import { DEFAULT_CONF_DIR } from '../cni/chain.js';

export const ANNOTATIONS = {
  network: 'org.mydocker.cni.network',
  networks: 'org.mydocker.cni.networks',
  confDir: 'org.mydocker.cni.confdir',
  path: 'org.mydocker.cni.path',
  ifname: 'org.mydocker.cni.ifname',
  ip: 'org.mydocker.cni.ip',
  mac: 'org.mydocker.cni.mac',
  ports: 'org.mydocker.cni.ports',
  stateDir: 'org.mydocker.cni.statedir',
} as const;

export const DEFAULT_HOOK_STATE_DIR = '/run/mydocker-cni/containers';

export interface AttachmentSpec {
  /** A network name (looked up in confDir) or an absolute path to its .conflist/.conf. */
  network: string;
  ifname: string;
  ip?: string;
  mac?: string;
  portMappings: PortMapping[];
  /** false: the network's default route is left out (a container has one; its first network's). */
  defaultRoute?: boolean;
}

export interface NetworkSpec {
  attachments: AttachmentSpec[];
  confDir: string;
  cniPath: string[];
  stateDir: string;
}

function bad(key: string, msg: string): never {
  throw new CniError(ErrCode.InvalidConfig, `annotation ${key}: ${msg}`);
}

function attachment(raw: Record<string, unknown>, key: string, defaultIfname: string): AttachmentSpec {
  if (typeof raw.network !== 'string' || raw.network === '') bad(key, 'network: missing (a network name or an absolute path)');
  const ifname = raw.ifname === undefined || raw.ifname === '' ? defaultIfname : raw.ifname;
  if (typeof ifname !== 'string') bad(key, 'ifname: must be a string');
  try {
    validateIfname(ifname, 'ifname');
  } catch (e) {
    bad(key, (e as Error).message);
  }
  const out: AttachmentSpec = { network: raw.network, ifname, portMappings: [] };
  if (raw.defaultRoute !== undefined) {
    if (typeof raw.defaultRoute !== 'boolean') bad(key, 'defaultRoute: must be true or false');
    out.defaultRoute = raw.defaultRoute;
  }
  if (raw.ip !== undefined && raw.ip !== '') {
    try {
      out.ip = formatIPv4(parseIPv4(raw.ip, 'ip'));
    } catch (e) {
      bad(key, (e as Error).message);
    }
  }
  if (raw.mac !== undefined && raw.mac !== '') {
    try {
      parseMac(String(raw.mac), 'mac');
    } catch (e) {
      bad(key, (e as Error).message);
    }
    out.mac = String(raw.mac).toLowerCase();
  }
  const ports = raw.ports;
  const list = ports === undefined || ports === '' ? [] : typeof ports === 'string' ? ports.split(',') : ports;
  if (!Array.isArray(list)) bad(key, 'ports: must be a list of "[hostIP:]hostPort:containerPort[/tcp|udp]"');
  for (const p of list) {
    let m: PortMapping;
    try {
      m = parsePortSpec(String(p), 'ports:');
    } catch (e) {
      return bad(key, (e as Error).message);
    }
    const clash = out.portMappings.find((o) => conflicts(o, m));
    if (clash) bad(key, `ports: ${describe(m)} overlaps ${describe(clash)}`);
    out.portMappings.push(m);
  }
  return out;
}

/**
 * What the annotations ask for; null when they name no network (the hook then does nothing).
 * `defaultPath` is CNI_PATH when org.mydocker.cni.path is absent.
 */
export function parseAnnotations(ann: Record<string, string>, defaultPath: string[]): NetworkSpec | null {
  const single = ann[ANNOTATIONS.network];
  const multi = ann[ANNOTATIONS.networks];
  for (const k of [ANNOTATIONS.ifname, ANNOTATIONS.ip, ANNOTATIONS.mac, ANNOTATIONS.ports]) {
    if (ann[k] !== undefined && !single) bad(k, `needs ${ANNOTATIONS.network}`);
  }
  if (!single && !multi) return null;
  let attachments: AttachmentSpec[];
  if (multi) {
    if (single) bad(ANNOTATIONS.networks, `give either it or ${ANNOTATIONS.network}, not both`);
    let list: unknown;
    try {
      list = JSON.parse(multi);
    } catch (e) {
      return bad(ANNOTATIONS.networks, `not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(list) || list.length === 0) bad(ANNOTATIONS.networks, 'must be a non-empty JSON array of {"network", "ifname", "ip", "mac", "ports", "defaultRoute"}');
    attachments = list.map((a, i) => {
      if (!a || typeof a !== 'object') bad(ANNOTATIONS.networks, `[${i}]: must be an object`);
      return attachment(a as Record<string, unknown>, `${ANNOTATIONS.networks}[${i}]`, `eth${i}`);
    });
  } else {
    attachments = [
      attachment({ network: single, ifname: ann[ANNOTATIONS.ifname], ip: ann[ANNOTATIONS.ip], mac: ann[ANNOTATIONS.mac], ports: ann[ANNOTATIONS.ports] }, ANNOTATIONS.network, 'eth0'),
    ];
  }
  const seen = new Set<string>();
  for (const a of attachments) {
    if (seen.has(a.ifname)) bad(ANNOTATIONS.networks, `interface ${a.ifname} is used twice`);
    seen.add(a.ifname);
  }
  const abs = (key: string, dflt: string) => {
    const v = ann[key];
    if (v === undefined || v === '') return dflt;
    if (!v.startsWith('/')) bad(key, `${JSON.stringify(v)} must be an absolute path`);
    return v;
  };
  const path = ann[ANNOTATIONS.path];
  const cniPath = path ? path.split(':').filter(Boolean) : defaultPath;
  for (const d of cniPath) if (!d.startsWith('/')) bad(ANNOTATIONS.path, `${JSON.stringify(d)} must be an absolute path`);
  return { attachments, confDir: abs(ANNOTATIONS.confDir, DEFAULT_CONF_DIR), cniPath, stateDir: abs(ANNOTATIONS.stateDir, DEFAULT_HOOK_STATE_DIR) };
}
