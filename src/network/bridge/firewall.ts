// The bridge plugin's firewall rules, as ONE iptables-restore --noflush transaction per ADD
// and per DEL (atomic: all or nothing), never a process per rule.
//
// Every rule belongs to one attachment (network, container, interface) and carries its tag:
// per-attachment chains are named MYDOCKER-MASQ-<tag> and MYDOCKER-DNAT-<tag>, and every rule
// in a built-in chain has the comment "mydocker:<tag> <network> <container>/<ifname>". So
// cleanup deletes exactly what the attachment added and never guesses. For a container I on
// subnet S with port maps:
//
//   nat  POSTROUTING -s I -j MYDOCKER-MASQ-t          (ipMasq)
//        MYDOCKER-MASQ-t: -d S -j RETURN; ! -d 224.0.0.0/4 -j MASQUERADE
//        PREROUTING, OUTPUT -m addrtype --dst-type LOCAL -j MYDOCKER-DNAT-t
//        MYDOCKER-DNAT-t: [-d hostIP] -p proto --dport hostPort -j DNAT --to-destination I:port
//        POSTROUTING -s S -d I --ctstate DNAT -j MASQUERADE      (hairpin: container -> host port -> itself/neighbour)
//        POSTROUTING -s 127.0.0.0/8 -d I -j MASQUERADE          (the host through 127.0.0.1; needs route_localnet)
//   filter FORWARD -s I -j ACCEPT;  FORWARD -d I --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT
//        (inserted first, so they hold on a host whose FORWARD policy is DROP)
//   internal (docker's --internal): instead, FORWARD -s I ! -d S -j DROP; FORWARD -d I ! -s S
//        -j DROP; FORWARD -s I -d S -j ACCEPT — the subnet talks within itself (and to the host
//        on the bridge), never beyond
//
// The masquerade chain RETURNs rather than ACCEPTs inside the subnet, so that it never ends the
// POSTROUTING walk before another attachment's hairpin rule.
import type { PortMapping } from './ports.js';

export interface FirewallSpec {
  tag: string;
  network: string;
  containerId: string;
  ifname: string;
  /** The container's address, no prefix. */
  ip: string;
  /** Its subnet, "10.88.0.0/16". */
  subnet: string;
  ipMasq: boolean;
  /** Drop whatever would be forwarded between the container and outside its subnet. */
  internal?: boolean;
  ports: PortMapping[];
}

export const chainNames = (tag: string) => ({ masq: `MYDOCKER-MASQ-${tag}`, dnat: `MYDOCKER-DNAT-${tag}` });

export function commentOf(s: Pick<FirewallSpec, 'tag' | 'network' | 'containerId' | 'ifname'>): string {
  // iptables keeps at most 255 characters; the tag comes first, so it always survives.
  return `mydocker:${s.tag} ${s.network} ${s.containerId}/${s.ifname}`.slice(0, 255);
}

interface Rules {
  nat: string[];
  filter: string[];
  /** Chains created, per table. */
  chains: { nat: string[]; filter: string[] };
}

function rules(s: FirewallSpec): Rules {
  const c = `-m comment --comment "${commentOf(s)}"`;
  const { masq, dnat } = chainNames(s.tag);
  const out: Rules = { nat: [], filter: [], chains: { nat: [], filter: [] } };
  if (s.ipMasq) {
    out.chains.nat.push(masq);
    out.nat.push(`-A ${masq} -d ${s.subnet} -j RETURN`, `-A ${masq} ! -d 224.0.0.0/4 -j MASQUERADE`, `-A POSTROUTING -s ${s.ip}/32 ${c} -j ${masq}`);
  }
  if (s.ports.length) {
    out.chains.nat.push(dnat);
    for (const p of s.ports) {
      const dst = p.hostIP ? `-d ${p.hostIP}/32 ` : '';
      out.nat.push(`-A ${dnat} ${dst}-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${s.ip}:${p.containerPort}`);
    }
    out.nat.push(
      `-A PREROUTING -m addrtype --dst-type LOCAL ${c} -j ${dnat}`,
      `-A OUTPUT -m addrtype --dst-type LOCAL ${c} -j ${dnat}`,
      `-A POSTROUTING -s ${s.subnet} -d ${s.ip}/32 -m conntrack --ctstate DNAT ${c} -j MASQUERADE`,
      `-A POSTROUTING -s 127.0.0.0/8 -d ${s.ip}/32 ${c} -j MASQUERADE`,
    );
  }
  if (s.internal) {
    // Within the subnet it is accepted (a host whose FORWARD policy is DROP would cut it).
    out.filter.push(`-I FORWARD -s ${s.ip}/32 -d ${s.subnet} ${c} -j ACCEPT`, `-I FORWARD -d ${s.ip}/32 ! -s ${s.subnet} ${c} -j DROP`, `-I FORWARD -s ${s.ip}/32 ! -d ${s.subnet} ${c} -j DROP`);
  }
  else out.filter.push(`-I FORWARD -d ${s.ip}/32 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT ${c} -j ACCEPT`, `-I FORWARD -s ${s.ip}/32 ${c} -j ACCEPT`);
  return out;
}

function transaction(tables: Array<[string, string[]]>): string {
  return tables
    .filter(([, lines]) => lines.length)
    .map(([t, lines]) => `*${t}\n${lines.join('\n')}\nCOMMIT\n`)
    .join('');
}

/** The iptables-restore input that adds an attachment's rules. */
export function addTransaction(s: FirewallSpec): string {
  const r = rules(s);
  return transaction([
    ['nat', [...r.chains.nat.map((ch) => `:${ch} - [0:0]`), ...r.nat]],
    ['filter', r.filter],
  ]);
}

/**
 * The exact inverse of addTransaction (the fast DEL): fails as a whole, changing nothing, if
 * any of it is missing; then the caller lists what is there (deleteFromSave).
 */
export function delTransaction(s: FirewallSpec): string {
  const r = rules(s);
  const inBuiltin = (lines: string[], chains: string[]) =>
    lines.filter((l) => !chains.some((ch) => l.startsWith(`-A ${ch} `))).map((l) => `-D${l.slice(2)}`);
  return transaction([
    ['nat', [...inBuiltin(r.nat, r.chains.nat), ...r.chains.nat.flatMap((ch) => [`-F ${ch}`, `-X ${ch}`])]],
    ['filter', inBuiltin(r.filter, r.chains.filter)],
  ]);
}

/**
 * From iptables-save output: the transaction deleting every rule and chain tagged `tag`, or ''
 * when there is none. Rules in our own chains go with their chain (-F, -X).
 */
export function deleteFromSave(save: string, tag: string): string {
  const mark = `"mydocker:${tag} `;
  const ours = (chain: string) => chain.startsWith('MYDOCKER-') && chain.endsWith(`-${tag}`);
  const tables: Array<[string, string[]]> = [];
  let table = '';
  let dels: string[] = [];
  let chains: string[] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      dels = [];
      chains = [];
    } else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      if (ours(name)) chains.push(name);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      if (!ours(chain) && (line.includes(mark) || line.split(' ').some((w, i, a) => a[i - 1] === '-j' && ours(w)))) dels.push(`-D${line.slice(2)}`);
    } else if (line.trim() === 'COMMIT' && table) {
      tables.push([table, [...dels, ...chains.flatMap((ch) => [`-F ${ch}`, `-X ${ch}`])]]);
      table = '';
    }
  }
  return transaction(tables);
}

/** The lines of an attachment's rules (as iptables-save prints them) missing from `save` (CHECK). */
export function missingFromSave(save: string, s: FirewallSpec): string[] {
  const r = rules(s);
  const present = new Set(save.split('\n').map((l) => l.trim()));
  const want = [...r.nat, ...r.filter.map((l) => `-A${l.slice(2)}`)];
  // iptables-save spells a few things its own way; compare on a normalised form.
  const norm = (l: string) => l.replace(/ -m (tcp|udp) --dport/, ' -m $1 --dport');
  const have = new Set([...present].map(norm));
  return want.filter((l) => !have.has(norm(l)));
}
