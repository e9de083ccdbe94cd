// CNI's data model (spec 1.0.0, with 1.1.0's STATUS and GC): the error object and its codes,
// the result, versions. Pure: shared by our plugins, the chain runner and the hook.

/** Error codes of the CNI spec (1-99 are the spec's; 100+ are ours, documented here). */
export const ErrCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IOFailure: 5,
  DecodingFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD now (CNI 1.1). */
  NotAvailable: 50,
  /** mydocker-ipam: no free address left in the range. */
  RangeExhausted: 100,
  /** mydocker-ipam: the requested address is outside the range or taken. */
  AddressUnavailable: 101,
  /** mydocker-bridge: a host port (protocol, address) is already mapped. */
  PortConflict: 102,
  /** mydocker-bridge: the interface name is already used in the container's netns. */
  InterfaceExists: 103,
  /** Anything else that went wrong (a kernel call, a tool); CNI's libraries use 999 too. */
  Internal: 999,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details = '',
  ) {
    super(msg);
    this.name = 'CniError';
  }
  toJSON(cniVersion: string): Record<string, unknown> {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Any thrown value as a CniError (kernel and tool errors become code 999 with their text). */
export function asCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof RangeError) return new CniError(ErrCode.InvalidConfig, e.message);
  return new CniError(ErrCode.Internal, e instanceof Error ? e.message : String(e));
}

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.0.0';

export function checkVersion(v: unknown, versions: readonly string[] = SUPPORTED_VERSIONS): string {
  if (typeof v !== 'string' || v === '') {
    throw new CniError(ErrCode.InvalidConfig, 'cniVersion: missing from the network configuration');
  }
  if (!versions.includes(v)) {
    throw new CniError(ErrCode.IncompatibleVersion, `incompatible CNI version ${v}`, `supported versions: ${versions.join(', ')}`);
  }
  return v;
}

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
}

export interface CniIPConfig {
  interface?: number;
  address: string;
  gateway?: string;
  /** 0.3.x / 0.4.0 only. */
  version?: '4' | '6';
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIPConfig[];
  routes?: CniRoute[];
  dns?: CniDNS;
}

/** A result as the config's cniVersion wants it (0.3.x and 0.4.0 tag each IP with its version). */
export function resultFor(result: CniResult, cniVersion: string): CniResult {
  const old = cniVersion.startsWith('0.');
  return {
    ...result,
    cniVersion,
    ips: result.ips?.map((ip) => {
      const { version: _v, ...rest } = ip;
      return old ? { ...rest, version: ip.address.includes(':') ? '6' : '4' } : rest;
    }),
  };
}

/** A prevResult of any supported version, as a 1.0.0 result. */
export function normalizeResult(raw: unknown): CniResult | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object') throw new CniError(ErrCode.DecodingFailure, 'prevResult: must be an object');
  const r = raw as CniResult;
  return { ...r, ips: r.ips?.map(({ version: _v, ...rest }) => rest) };
}

/** CNI_ARGS: "K1=V1;K2=V2" (IgnoreUnknown is for the plugins that refuse unknown keys). */
export function parseCniArgs(s: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!s) return out;
  for (const pair of s.split(';')) {
    if (!pair) continue;
    const i = pair.indexOf('=');
    if (i <= 0) throw new CniError(ErrCode.InvalidEnv, `CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`);
    out.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return out;
}

/** A network name as CNI allows it (also a safe file name). */
export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
