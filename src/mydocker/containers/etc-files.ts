// /etc/hostname, /etc/hosts and /etc/resolv.conf for a container: files in its directory,
// bind-mounted over the image's. Rewritten in place (never replaced by rename: a bind mount
// pins the inode), so networking can add a neighbour to a running container's /etc/hosts.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';

export interface HostsEntry {
  ip: string;
  names: string[];
}

export const LOCALHOST_LINES = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** docker's layout: the localhost lines, then --add-host entries, then the container's own. */
export function hostsText(entries: HostsEntry[], extra: HostsEntry[] = []): string {
  return `${LOCALHOST_LINES.join('\n')}\n${hostsLines([...extra, ...entries])}`;
}

/** "IP\tNAME…" lines, each ending in a newline. */
export function hostsLines(entries: HostsEntry[]): string {
  return entries.map((e) => `${e.ip}\t${e.names.join(' ')}\n`).join('');
}

/**
 * `--add-host` entries ("name:ip", as HostConfig.ExtraHosts keeps them) for /etc/hosts;
 * `host-gateway` is the host as the container reaches it (`gateway`).
 */
export function extraHostEntries(extraHosts: readonly string[] | undefined, gateway: string | undefined): HostsEntry[] {
  return (extraHosts ?? []).map((h) => {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1);
    return { ip: ip === HOST_GATEWAY ? (gateway ?? '127.0.0.1') : ip, names: [h.slice(0, i)] };
  });
}

/** The special `--add-host NAME:host-gateway` value. */
export const HOST_GATEWAY = 'host-gateway';

/** --dns, --dns-search, --dns-option (empty: the host's). */
export interface DnsOverrides {
  servers?: readonly string[];
  search?: readonly string[];
  options?: readonly string[];
}

/** docker's fallback when the host has no nameserver a container can reach. */
export const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolv.conf for a container in its own network namespace: loopback nameservers
 * (a systemd-resolved or dnsmasq stub on the host) are unreachable from there, so they go, as
 * docker drops them — and when none is left, docker's defaults (Google's) take their place.
 * With the host's network, the file is the host's as is. --dns, --dns-search and --dns-option
 * replace the host's nameservers, search list and options (each only when given; a search
 * list of "." means none), and the file is then written as docker writes it: nameservers,
 * search, options.
 */
export function resolvConfText(hostNetwork: boolean, text = readHost('/etc/resolv.conf'), dns: DnsOverrides = {}): string {
  const custom = !!(dns.servers?.length || dns.search?.length || dns.options?.length);
  if (hostNetwork && !custom) return text;
  const lines = text.split('\n');
  const reachable = (l: string) => hostNetwork || !/^\s*nameserver\s+(127\.|::1\b)/.test(l);
  if (!custom) {
    let out = lines.filter(reachable).join('\n').replace(/\n*$/, '');
    if (!/^\s*nameserver\s/m.test(out)) out += `${out ? '\n' : ''}${DEFAULT_NAMESERVERS.map((n) => `nameserver ${n}`).join('\n')}`;
    return `${out}\n`;
  }
  const words = (re: RegExp) => lines.filter((l) => re.test(l)).map((l) => l.trim().split(/\s+/).slice(1));
  const hostServers = lines.filter((l) => /^\s*nameserver\s/.test(l) && reachable(l)).map((l) => l.trim().split(/\s+/)[1]!);
  const servers = dns.servers?.length ? dns.servers : hostServers.length ? hostServers : DEFAULT_NAMESERVERS;
  // The last search (or domain) line wins, as in the resolver.
  const search = dns.search?.length ? (dns.search.length === 1 && dns.search[0] === '.' ? [] : [...dns.search]) : (words(/^\s*(search|domain)\s/).at(-1) ?? []);
  const options = dns.options?.length ? [...dns.options] : words(/^\s*options\s/).flat();
  return [...servers.map((n) => `nameserver ${n}`), ...(search.length ? [`search ${search.join(' ')}`] : []), ...(options.length ? [`options ${options.join(' ')}`] : [])].join('\n') + '\n';
}

export function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function hostHostnameText(): string {
  return hostHostname();
}

/** Write a file in place (truncate + write): bind mounts of it see the new content. */
export function writeInPlace(path: string, text: string): void {
  const fd = openSync(path, 'a+', 0o644);
  try {
    ftruncateSync(fd, 0);
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, off);
  } finally {
    closeSync(fd);
  }
}
