// The runtime ↔ native init protocol: one stream socket (a socketpair; the init's end is its
// argv[1]), frames of `u32 type, u32 length, payload`, little-endian. One table, both sides
// (init.c has the same numbers; test/unit/native-protocol.test.ts compares the two):
//
//   frame     dir              payload
//   PLAN      runtime → init   the steps below, once, first; SCM_RIGHTS carries the fds the
//                              steps refer to as slots 0..n-1
//   CONTINUE  runtime → init   empty: the answer to a SYNC
//   PID       init → runtime   i32: the pid FORK made — the container's process (our child:
//                              CLONE_PARENT), whose pid the pid file and state.json hold
//   SYNC      init → runtime   tag; the init waits for CONTINUE:
//                                "userns"      write the id maps of the sender (the launcher)
//                                "namespaces"  run prestart and createRuntime hooks
//   REPORT    init → runtime   tag, no answer:
//                                "ready"       create: rootfs, credentials, capabilities done;
//                                              the init now blocks on exec.fifo
//                                "exec"        exec: execve comes next; EOF then means it worked
//                                "mount <id> <path>"  a mount made in the host's mount
//                                              namespace (no mount namespace): delete undoes it
//   ERROR     init → runtime   i32 errno, then one line naming the field, call, path, errno
//
// EOF on the socket: the init is gone (before READY: it failed or was killed), or it exec'd
// (the socket is close-on-exec: the expected end of `exec`).
//
// The PLAN is a program for a tiny interpreter (init.c's run()): a sequence of steps, each a
// u32 opcode followed by its arguments — u32, i64, str (u32 length, bytes, NUL), strs (u32
// count, strs), bytes (u32 length, bytes). Every decision — which steps, in which order, with
// which paths and flags — is made here, in TypeScript (steps.ts); the C side only executes.
import { readSync, writeSync } from 'node:fs';
import { sendWithFds } from '../../kernel/socket.js';

/** init.c's MAX_FDS_IN_PLAN and MAX_SLOTS. */
export const MAX_PASSED_FDS = 64;
export const MAX_SLOTS = 256;

export const FRAME = { PLAN: 1, CONTINUE: 2, PID: 16, SYNC: 17, REPORT: 18, ERROR: 19 } as const;

/** Step opcodes: name → [code, argument layout] (the layout documents init.c's reader). */
export const OPS = {
  END: [0, ''],
  CONTEXT: [1, 'str context: the spec field named in errors of the steps that follow'],
  TRACE: [2, 'str phase: a MYDOCKER_RUNC_TRACE mark'],
  UNSHARE: [3, 'u32 CLONE_* flags'],
  SETNS_PATH: [4, 'str path, u32 nstype'],
  SETNS_SLOT: [5, 'u32 slot, u32 nstype (the slot is closed)'],
  SYNC: [6, 'str tag: send SYNC, wait for CONTINUE'],
  REPORT: [7, 'str tag'],
  FORK: [8, 'clone(CLONE_PARENT); the parent sends PID and exits, the child goes on'],
  SETSID: [9, ''],
  SETRESUID: [10, 'u32 uid'],
  SETRESGID: [11, 'u32 gid'],
  SETGROUPS: [12, 'u32 count, u32 gid...'],
  PRCTL: [13, 'u32 option, i64 arg2'],
  OPEN: [14, 'u32 slot, str path, u32 O_* flags (O_CLOEXEC added)'],
  CLOSE: [15, 'u32 slot'],
  WRITE_FILE: [16, 'str path, str data: one write(2)'],
  WRITE_SLOT: [17, 'u32 slot, str data'],
  SETRLIMIT: [18, 'u32 resource, i64 soft, i64 hard'],
  SETHOSTNAME: [19, 'str'],
  SETDOMAINNAME: [20, 'str'],
  MOUNT: [21, 'str source, str target, str fstype, i64 flags, str data ("" = NULL)'],
  MOUNT_IN_ROOT: [22, 'u32 root slot, str dest, u32 create (0 no, 1 dir, 2 file), str source, str fstype, i64 flags, str data'],
  REMOUNT_IN_ROOT: [23, 'u32 root slot, str dest, i64 flags, i64 keep: MS_REMOUNT|flags|(current flags & keep)'],
  SETATTR_IN_ROOT: [24, 'u32 root slot, str dest, i64 attr_set, i64 attr_clr: mount_setattr(AT_RECURSIVE)'],
  MKNOD_IN_ROOT: [25, 'u32 root slot, str path, u32 mode, i64 dev, u32 uid, u32 gid'],
  SYMLINK_IN_ROOT: [26, 'u32 root slot, str dir, str name, str target, u32 replace anything (0: only a link)'],
  CHDIR: [27, 'str path'],
  CHROOT: [28, 'str path'],
  CHROOT_SLOT: [29, 'u32 slot: fchdir, chroot "." (the slot is closed)'],
  PIVOT_ROOT: [30, 'str rootfs: pivot_root(".", "."), then detach the old root'],
  MOVE_ROOT: [31, 'str rootfs: MS_MOVE onto "/", chroot (--no-pivot)'],
  MASK: [32, 'str path: /dev/null over a file, a read-only tmpfs over a directory, nothing if absent'],
  READONLY: [33, 'str path: bind on itself, remount read-only (nothing if absent)'],
  REMOUNT_RO: [34, 'str path'],
  CONSOLE: [35, 'u32 socket slot, u32 rows, u32 cols, u32 bind the slave on /dev/console'],
  HOOK: [36, 'str path, strs args, strs env, u32 timeout, str state before the pid, str state after it'],
  SECCOMP: [37, 'u32 flags, bytes program'],
  CAP_BOUNDING: [38, 'i64 keep mask, u32 last capability'],
  CAPSET: [39, 'i64 effective, i64 permitted, i64 inheritable'],
  CAP_AMBIENT: [40, 'i64 raise mask'],
  UMASK: [41, 'u32'],
  CLOSE_FROM: [42, 'u32 first fd: close-on-exec from there on, 0..first-1 kept'],
  ENV: [43, 'strs: the environment of EXEC'],
  HOME: [44, 'u32 uid: HOME from /etc/passwd unless ENV has one'],
  LOOKUP: [45, 'str file: execvp search with ENV\'s PATH'],
  WAIT_FIFO: [46, 'u32 fifo slot'],
  EXEC: [47, 'strs argv: execve of LOOKUP\'s path'],
  RESET_SIGNALS: [48, ''],
  CLONE_TREE: [49, 'u32 slot, str source, u32 recursive (1: submounts, 2: id-map them too), str uid_map, str gid_map: a detached copy of source, id-mapped if maps'],
  MOVE_MOUNT_IN_ROOT: [50, 'u32 tree slot, u32 root slot, str dest, u32 create'],
  RECORD_MOUNT: [51, 'u32 root slot, str dest: REPORT "mount <id> <host path>"'],
  OPEN_IN_ROOT: [52, 'u32 slot, u32 root slot, str path (O_PATH)'],
} as const;

export type OpName = keyof typeof OPS;

/** The plan being written: steps, and the fds they refer to. */
export class Plan {
  private parts: Buffer[] = [];
  /** fds sent with the plan; their slot is their index (at most MAX_PASSED_FDS). */
  readonly fds: number[] = [];
  /** Slots the init fills itself start after the passed ones' range. */
  private nextSlot = MAX_PASSED_FDS;
  /** A readable listing of the steps, for tests and --debug. */
  readonly listing: string[] = [];
  private line: string[] = [];

  /** A slot for an fd of ours, sent with the plan. */
  passFd(fd: number): number {
    if (this.fds.length >= MAX_PASSED_FDS) throw new RangeError(`plan: more than ${MAX_PASSED_FDS} fds`);
    this.fds.push(fd);
    return this.fds.length - 1;
  }

  /** A slot the init fills itself (OPEN, CLONE_TREE, OPEN_IN_ROOT). */
  newSlot(): number {
    if (this.nextSlot >= MAX_SLOTS) throw new RangeError(`plan: more than ${MAX_SLOTS} slots`);
    return this.nextSlot++;
  }

  op(name: OpName): this {
    this.flushLine();
    this.line = [name];
    this.u32raw(OPS[name][0]);
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`plan: ${v} is not a u32`);
    this.line.push(String(v));
    return this.u32raw(v);
  }

  i64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      // Two 32-bit halves: BigInt arithmetic costs milliseconds on a cold start.
      b.writeInt32LE(Math.floor(v / 0x100000000), 4);
      b.writeUInt32LE(((v % 0x100000000) + 0x100000000) % 0x100000000, 0);
    } else b.writeBigInt64LE(BigInt.asIntN(64, BigInt(v)));
    this.parts.push(b);
    this.line.push(String(v));
    return this;
  }

  str(s: string): this {
    const b = Buffer.from(s);
    if (b.includes(0)) throw new RangeError(`plan: ${JSON.stringify(s)} contains a NUL byte`);
    this.u32raw(b.length);
    this.parts.push(b, Buffer.alloc(1));
    this.line.push(JSON.stringify(s));
    return this;
  }

  strs(list: string[]): this {
    this.u32raw(list.length);
    const before = this.line.length;
    for (const s of list) this.str(s);
    this.line.splice(before, this.line.length - before, JSON.stringify(list));
    return this;
  }

  bytes(b: Buffer): this {
    this.u32raw(b.length);
    this.parts.push(b);
    this.line.push(`<${b.length} bytes>`);
    return this;
  }

  private u32raw(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
    return this;
  }

  private flushLine(): void {
    if (this.line.length) this.listing.push(this.line.join(' '));
    this.line = [];
  }

  /** The PLAN frame's payload (END appended). */
  finish(): Buffer {
    this.op('END');
    this.flushLine();
    return Buffer.concat(this.parts);
  }
}

function header(type: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(length, 4);
  return h;
}

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
}

/** Send the PLAN frame, its fds riding on the first bytes. */
export function sendPlan(sock: number, plan: Plan): void {
  const payload = plan.finish();
  const frame = Buffer.concat([header(FRAME.PLAN, payload.length), payload]);
  const sent = sendWithFds(sock, frame, plan.fds);
  if (sent < frame.length) writeAll(sock, frame.subarray(sent));
}

export function sendContinue(sock: number): void {
  writeAll(sock, header(FRAME.CONTINUE, 0));
}

export type Frame =
  | { type: 'pid'; pid: number }
  | { type: 'sync'; tag: string }
  | { type: 'report'; tag: string }
  | { type: 'error'; errno: number; message: string };

function readFull(fd: number, n: number): Buffer | null {
  const buf = Buffer.alloc(n);
  for (let off = 0; off < n; ) {
    let got: number;
    try {
      got = readSync(fd, buf, off, n - off, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      if (code === 'ECONNRESET') return null;
      throw e;
    }
    if (got === 0) return null;
    off += got;
  }
  return buf;
}

/** The next frame from the init; null on EOF (it exited, or exec'd: the socket is close-on-exec). */
export function receiveFrame(sock: number): Frame | null {
  const h = readFull(sock, 8);
  if (!h) return null;
  const type = h.readUInt32LE(0);
  const len = h.readUInt32LE(4);
  const p = len ? readFull(sock, len) : Buffer.alloc(0);
  if (!p) return null;
  switch (type) {
    case FRAME.PID:
      return { type: 'pid', pid: p.readInt32LE(0) };
    case FRAME.SYNC:
      return { type: 'sync', tag: p.toString('utf8') };
    case FRAME.REPORT:
      return { type: 'report', tag: p.toString('utf8') };
    case FRAME.ERROR:
      return { type: 'error', errno: p.readInt32LE(0), message: p.toString('utf8', 4) };
    default:
      throw new Error(`init protocol: unknown frame type ${type}`);
  }
}
