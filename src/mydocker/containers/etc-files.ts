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

export function hostsText(entries: HostsEntry[]): string {
  return [...LOCALHOST_LINES, ...entries.map((e) => `${e.ip}\t${e.names.join(' ')}`)].join('\n') + '\n';
}

/** docker's fallback when the host has no nameserver a container can reach. */
export const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolv.conf for a container in its own network namespace: loopback nameservers
 * (a systemd-resolved or dnsmasq stub on the host) are unreachable from there, so they go, as
 * docker drops them — and when none is left, docker's defaults (Google's) take their place.
 * With the host's network, the file is the host's as is.
 */
export function resolvConfText(hostNetwork: boolean, text = readHost('/etc/resolv.conf')): string {
  if (hostNetwork) return text;
  let out = text
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l))
    .join('\n')
    .replace(/\n*$/, '');
  if (!/^\s*nameserver\s/m.test(out)) out += `${out ? '\n' : ''}${DEFAULT_NAMESERVERS.map((n) => `nameserver ${n}`).join('\n')}`;
  return `${out}\n`;
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
