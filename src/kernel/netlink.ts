// Netlink sockets (AF_NETLINK): the framing, sequence numbers, acks, dumps and the kernel's
// error text (extended acks). The rtnetlink messages themselves (links, addresses, routes) are
// built in src/network/rtnetlink.ts; this file is only the socket.
//
// A netlink socket belongs to the network namespace its creator's thread was in when it was
// opened, for its whole life: open one while the main thread is inside a container's netns
// (setns), return, and it still speaks to that netns (see src/network/netns.ts).
//
// Everything is synchronous: requests are small, the kernel answers at once, and the callers
// are short-lived CLIs (a CNI plugin, a hook).
//
// Layout (native endianness; x86-64 and arm64 are little-endian):
//   struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }   16 bytes
//   struct nlmsgerr { int error; struct nlmsghdr msg; [payload]; [TLVs] }
import { check, KernelError, libcFn, retryEintr } from './ffi.js';
import { SOCK_CLOEXEC } from './files.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
export const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
const NLM_F_ACK_TLVS = 0x200; // on an NLMSG_ERROR: extended-ack attributes follow
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSGERR_ATTR_MSG = 1;
const HDR = 16;

export interface NlMessage {
  type: number;
  flags: number;
  /** The payload after the nlmsghdr. */
  body: Buffer;
}

export interface NlRequest {
  type: number;
  flags: number;
  body: Buffer;
  /** What the request does, for the error ("RTM_NEWLINK veth1234"). */
  what: string;
}

const align4 = (n: number) => (n + 3) & ~3;

/** The kernel's extended-ack text of an NLMSG_ERROR body, if it sent one. */
function extAckMessage(flags: number, body: Buffer): string {
  if (!(flags & NLM_F_ACK_TLVS)) return '';
  // NETLINK_CAP_ACK is set: the echoed request is its header only.
  let off = 4 + HDR;
  while (off + 4 <= body.length) {
    const len = body.readUInt16LE(off);
    const type = body.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    if (type === NLMSGERR_ATTR_MSG) return body.toString('utf8', off + 4, off + len).replace(/\0+$/, '');
    off += align4(len);
  }
  return '';
}

export class Netlink {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buf = Buffer.alloc(1 << 16);
  private closed = false;

  private constructor(readonly fd: number) {}

  /** A NETLINK_ROUTE socket in the calling thread's network namespace. */
  static open(protocol = NETLINK_ROUTE): Netlink {
    const fd = check(libcFn('int socket(int domain, int type, int protocol)')(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), 'socket', 'AF_NETLINK');
    const nl = new Netlink(fd);
    // Ask for the kernel's error text ("Error: Device does not exist"), and for acks that do
    // not echo the whole request back. Both are best effort (old kernels lack them).
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    const setsockopt = libcFn('int setsockopt(int fd, int level, int name, const void *val, uint32 len)');
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
    return nl;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libcFn('int close(int fd)')(this.fd);
  }

  private frame(req: NlRequest, seq: number): Buffer {
    const msg = Buffer.alloc(align4(HDR + req.body.length));
    msg.writeUInt32LE(HDR + req.body.length, 0);
    msg.writeUInt16LE(req.type, 4);
    msg.writeUInt16LE(req.flags | NLM_F_REQUEST, 6);
    msg.writeUInt32LE(seq, 8);
    msg.writeUInt32LE(0, 12);
    req.body.copy(msg, HDR);
    return msg;
  }

  private send(data: Buffer, what: string): void {
    const addr = Buffer.alloc(12); // struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; }: the kernel
    addr.writeUInt16LE(AF_NETLINK, 0);
    const sendto = libcFn('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32 alen)');
    const n = retryEintr(() => check(sendto(this.fd, data, data.length, 0, addr, addr.length), 'sendto', `netlink ${what}`));
    if (n !== data.length) throw new Error(`netlink ${what}: sent ${n} of ${data.length} bytes`);
  }

  /** Read one datagram and split it into messages. */
  private receive(what: string): Array<NlMessage & { seq: number }> {
    const recv = libcFn('long recv(int fd, void *buf, size_t len, int flags)');
    const n = retryEintr(() => check(recv(this.fd, this.buf, this.buf.length, 0), 'recv', `netlink ${what}`));
    const out: Array<NlMessage & { seq: number }> = [];
    let off = 0;
    while (off + HDR <= n) {
      const len = this.buf.readUInt32LE(off);
      if (len < HDR || off + len > n) break;
      out.push({
        type: this.buf.readUInt16LE(off + 4),
        flags: this.buf.readUInt16LE(off + 6),
        seq: this.buf.readUInt32LE(off + 8),
        body: Buffer.from(this.buf.subarray(off + HDR, off + len)),
      });
      off += align4(len);
    }
    return out;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  /**
   * Send several requests in one datagram and wait for each one's ack. The kernel runs them in
   * order and does not stop at a failure: the first error (in request order) is thrown, as a
   * KernelError naming that request, after every ack has been read.
   */
  batch(reqs: NlRequest[]): void {
    if (!reqs.length) return;
    const first = this.nextSeq();
    const frames: Buffer[] = [];
    reqs.forEach((r, i) => {
      if (i > 0) this.nextSeq();
      frames.push(this.frame({ ...r, flags: r.flags | NLM_F_ACK }, (first + i) >>> 0));
    });
    this.send(Buffer.concat(frames), reqs[0]!.what);
    const errors = new Map<number, KernelError>();
    let pending = reqs.length;
    while (pending > 0) {
      for (const m of this.receive(reqs[0]!.what)) {
        const i = (m.seq - first) >>> 0;
        if (i >= reqs.length || m.type !== NLMSG_ERROR) continue;
        pending--;
        const err = -m.body.readInt32LE(0);
        if (err > 0) {
          const text = extAckMessage(m.flags, m.body);
          errors.set(i, new KernelError(`netlink ${reqs[i]!.what}`, err, text ? `(${text})` : undefined));
        }
      }
    }
    for (let i = 0; i < reqs.length; i++) {
      const e = errors.get(i);
      if (e) throw e;
    }
  }

  /** One acked request. */
  ack(req: NlRequest): void {
    this.batch([req]);
  }

  /**
   * A request answered by messages (a GET of one object, or a dump with NLM_F_DUMP): every
   * reply until the ack or NLMSG_DONE. An NLMSG_ERROR with an errno is thrown.
   */
  query(req: NlRequest): NlMessage[] {
    const seq = this.nextSeq();
    this.send(this.frame({ ...req, flags: req.flags | NLM_F_ACK }, seq), req.what);
    const out: NlMessage[] = [];
    for (;;) {
      for (const m of this.receive(req.what)) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_DONE) return out;
        if (m.type === NLMSG_ERROR) {
          const err = -m.body.readInt32LE(0);
          if (err > 0) {
            const text = extAckMessage(m.flags, m.body);
            throw new KernelError(`netlink ${req.what}`, err, text ? `(${text})` : undefined);
          }
          return out; // the ack of a non-dump GET
        }
        out.push({ type: m.type, flags: m.flags, body: m.body });
        // A single GET reply comes without NLM_F_MULTI, then its ack.
      }
    }
  }
}
