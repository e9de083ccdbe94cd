// What an ADD did, written before it touches the firewall or the port registry:
// <stateDir>/attachments/<tag>.json. DEL reads it back to undo exactly that, even without the
// netns or the prevResult, and removes it last. So "rules or ports exist" implies "the record
// exists", at every point a process may die; a DEL that finds no record has nothing to undo
// there (the veth and the IPAM allocation are found by name and by owner, not by record).
//
// <stateDir>/attachments/<tag>.lock is flock(2)ed by an ADD, DEL or GC of the attachment for
// its whole run, and the fd is handed to the processes it starts (iptables-restore, an IPAM
// plugin). A plugin killed with -9 may leave such a child finishing its transaction; the DEL
// that follows waits for the lock, so it sees what the child did instead of racing it.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockFile } from '../lockfile.js';
import type { PortMapping } from './ports.js';

export interface AttachmentRecord {
  version: 1;
  tag: string;
  network: string;
  containerId: string;
  ifname: string;
  bridge: string;
  hostVeth: string;
  /** The container's address and subnet, when it has one. */
  ip: string | null;
  subnet: string | null;
  ipMasq: boolean;
  /** An internal network's attachment (absent in older records: false). */
  internal?: boolean;
  ports: PortMapping[];
}

/**
 * An attachment's tag: 11 hex digits of sha256(network, container, interface). It names the
 * host-side veth ("veth" + tag, 15 bytes), the chains, and appears in every rule's comment.
 */
export function attachmentTag(network: string, containerId: string, ifname: string): string {
  return createHash('sha256').update(`${network}\0${containerId}\0${ifname}`).digest('hex').slice(0, 11);
}

export class Records {
  readonly dir: string;
  constructor(stateDir: string) {
    this.dir = join(stateDir, 'attachments');
  }

  private path(tag: string): string {
    return join(this.dir, `${tag}.json`);
  }

  read(tag: string): AttachmentRecord | null {
    let text: string;
    try {
      text = readFileSync(this.path(tag), 'utf8');
    } catch {
      return null;
    }
    try {
      const r = JSON.parse(text) as AttachmentRecord;
      return r && r.tag === tag ? r : null;
    } catch {
      // A record cannot be half-written (rename), so this is damage from outside: the caller
      // falls back to what the kernel shows for the tag.
      return null;
    }
  }

  write(r: AttachmentRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.sweep(r.tag);
    const tmp = join(this.dir, `.${r.tag}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 });
    renameSync(tmp, this.path(r.tag));
  }

  /**
   * A write killed before its rename leaves `.<tag>.<pid>.tmp`. Called holding the tag's lock
   * (ADD, DEL): no write of this tag is running, so each one is such a leftover.
   */
  sweep(tag: string): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) if (n.startsWith(`.${tag}.`) && n.endsWith('.tmp')) rmSync(join(this.dir, n), { force: true });
  }

  remove(tag: string): void {
    rmSync(this.path(tag), { force: true });
  }

  /** Lock attachment `tag` (waits for its holder, and for the children its holder left running). */
  lock(tag: string): number {
    return lockFile(join(this.dir, `${tag}.lock`));
  }

  /** Unlock; with `forget`, the attachment is gone and so goes its lock file. */
  unlock(tag: string, fd: number, forget = false): void {
    if (forget) rmSync(join(this.dir, `${tag}.lock`), { force: true });
    closeSync(fd);
  }

  /** Every record (GC). */
  list(): AttachmentRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => this.read(n.slice(0, -5)))
      .filter((r): r is AttachmentRecord => r !== null);
  }
}
