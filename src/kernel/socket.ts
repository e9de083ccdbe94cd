// Unix sockets beyond what node:net offers: passing a file descriptor (SCM_RIGHTS) with
// sendmsg/recvmsg, for the console socket (runc's protocol: one sendmsg whose data is the pty
// master's name and whose only control message carries the master fd).
//
// koffi cannot describe `struct msghdr` pointing at buffers that the kernel fills in, so the
// structures are laid out by hand in Buffers, with the addresses of other Buffers written into
// them (their memory lives outside V8's moving heap and stays put while referenced). The layout
// is the LP64 little-endian one of x86-64 and arm64:
//   struct iovec   { void *base; size_t len; }                                   16 bytes
//   struct msghdr  { void *name; socklen_t namelen; <pad 4>; struct iovec *iov;
//                    size_t iovlen; void *control; size_t controllen; int flags; } 56 bytes
//   struct cmsghdr { size_t len; int level; int type; unsigned char data[]; }    16 + data
import { check, koffi, libcFn, retryEintr } from './ffi.js';
import { AF_UNIX, SOCK_CLOEXEC } from './files.js';

export { AF_UNIX, SOCK_CLOEXEC, SOCK_SEQPACKET, SOCK_STREAM } from './files.js';
export const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const MSG_NOSIGNAL = 0x4000;
const MSG_CTRUNC = 0x8;
/** CMSG_SPACE(sizeof(int)): one control message holding one fd, padded (what go-runc expects). */
const CMSG_SPACE_ONE_FD = 24;
const CMSG_LEN_ONE_FD = 20;
const SUN_PATH_MAX = 108;

function assertLayout(): void {
  if (process.arch !== 'x64' && process.arch !== 'arm64') {
    throw new Error(`fd passing: struct msghdr layout unknown on ${process.arch}`);
  }
}

export function socket(type: number): number {
  return check(libcFn('int socket(int domain, int type, int protocol)')(AF_UNIX, type, 0), 'socket', 'AF_UNIX');
}

/** struct sockaddr_un for `path` (a filesystem path, never abstract). */
function sockaddr(path: string): Buffer {
  const bytes = Buffer.from(path);
  if (bytes.length === 0 || bytes.length >= SUN_PATH_MAX) {
    throw new RangeError(`unix socket path ${JSON.stringify(path)}: must be 1 to ${SUN_PATH_MAX - 1} bytes`);
  }
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}

export function connect(fd: number, path: string): void {
  const addr = sockaddr(path);
  const fn = libcFn('int connect(int fd, const void *addr, uint32 len)');
  retryEintr(() => check(fn(fd, addr, addr.length), 'connect', path));
}

export function bind(fd: number, path: string): void {
  const addr = sockaddr(path);
  check(libcFn('int bind(int fd, const void *addr, uint32 len)')(fd, addr, addr.length), 'bind', path);
}

export function listen(fd: number, backlog = 1): void {
  check(libcFn('int listen(int fd, int backlog)')(fd, backlog), 'listen');
}

/** accept4(2) with SOCK_CLOEXEC (plus `flags`). */
export function accept(fd: number, flags = 0): number {
  const fn = libcFn('int accept4(int fd, void *addr, void *len, int flags)');
  return retryEintr(() => check(fn(fd, null, null, SOCK_CLOEXEC | flags), 'accept4'));
}

/** A connected AF_UNIX stream socket (close-on-exec) to the listener at `path`. */
export function connectUnix(path: string): number {
  const fd = socket(1 /* SOCK_STREAM */ | SOCK_CLOEXEC);
  try {
    connect(fd, path);
  } catch (e) {
    libcFn('int close(int fd)')(fd);
    throw e;
  }
  return fd;
}

function address(buf: Buffer): bigint {
  return koffi.address(buf) as bigint;
}

/**
 * The buffers whose addresses sit inside a msghdr during a call: held here so that nothing
 * (not even an optimising compiler that sees no later use) can let them be collected early.
 */
const pinned: Buffer[][] = [];

function msghdr(iov: Buffer, control: Buffer): Buffer {
  const hdr = Buffer.alloc(56);
  hdr.writeBigUInt64LE(0n, 0); // msg_name
  hdr.writeUInt32LE(0, 8); // msg_namelen
  hdr.writeBigUInt64LE(address(iov), 16); // msg_iov
  hdr.writeBigUInt64LE(1n, 24); // msg_iovlen
  hdr.writeBigUInt64LE(control.length ? address(control) : 0n, 32); // msg_control
  hdr.writeBigUInt64LE(BigInt(control.length), 40); // msg_controllen
  hdr.writeInt32LE(0, 48); // msg_flags
  return hdr;
}

function iovec(data: Buffer): Buffer {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  return iov;
}

/**
 * One sendmsg(2): `data` as the payload and exactly one SCM_RIGHTS control message carrying
 * exactly `fd` (runc's utils.SendFd; go-runc's ReceiveMaster insists on that shape).
 */
export function sendFd(sock: number, fd: number, data: string): void {
  assertLayout();
  const payload = Buffer.from(data.length ? data : '\0');
  const control = Buffer.alloc(CMSG_SPACE_ONE_FD);
  control.writeBigUInt64LE(BigInt(CMSG_LEN_ONE_FD), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  control.writeInt32LE(fd, 16);
  const iov = iovec(payload);
  const hdr = msghdr(iov, control);
  const fn = libcFn('long sendmsg(int fd, const void *msg, int flags)');
  pinned.push([payload, control, iov]);
  let n: number;
  try {
    n = retryEintr(() => check(fn(sock, hdr, MSG_NOSIGNAL), 'sendmsg', 'SCM_RIGHTS'));
  } finally {
    pinned.pop();
  }
  if (n !== payload.length) throw new Error(`sendmsg: sent ${n} of ${payload.length} bytes`);
}

export interface ReceivedFd {
  /** The fd received (close-on-exec), or -1 when the message carried none. */
  fd: number;
  /** The payload (runc sends the master's name). */
  data: string;
  /** Number of fds the message carried (more than one are closed and reported here). */
  count: number;
}

/** One recvmsg(2), expecting one SCM_RIGHTS fd (received close-on-exec). Returns null on EOF. */
export function recvFd(sock: number, maxData = 4096): ReceivedFd | null {
  assertLayout();
  const payload = Buffer.alloc(maxData);
  // Room for a few fds, so that a sender passing more than one is detected, not truncated.
  const control = Buffer.alloc(16 + 8 * 4);
  const iov = iovec(payload);
  const hdr = msghdr(iov, control);
  const fn = libcFn('long recvmsg(int fd, void *msg, int flags)');
  pinned.push([payload, control, iov]);
  let n: number;
  try {
    n = retryEintr(() => check(fn(sock, hdr, MSG_CMSG_CLOEXEC), 'recvmsg'));
  } finally {
    pinned.pop();
  }
  const controllen = Number(hdr.readBigUInt64LE(40));
  const flags = hdr.readInt32LE(48);
  const fds: number[] = [];
  let off = 0;
  while (off + 16 <= controllen) {
    const len = Number(control.readBigUInt64LE(off));
    const level = control.readInt32LE(off + 8);
    const type = control.readInt32LE(off + 12);
    if (len < 16) break;
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let p = off + 16; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
    }
    off += (len + 7) & ~7;
  }
  if (n === 0 && fds.length === 0) return null;
  const close = libcFn('int close(int fd)');
  for (const extra of fds.slice(1)) close(extra);
  if (flags & MSG_CTRUNC) {
    for (const f of fds.slice(0, 1)) close(f);
    throw new Error('recvmsg: control message truncated (too many fds sent)');
  }
  return { fd: fds[0] ?? -1, data: payload.toString('utf8', 0, n).replace(/\0+$/, ''), count: fds.length };
}

/**
 * One sendmsg(2) of `data` with every fd of `fds` in a single SCM_RIGHTS message (the native
 * init's plan: its steps refer to those fds). Returns how many bytes went out; on a stream
 * socket the caller writes the rest.
 */
export function sendWithFds(sock: number, data: Buffer, fds: number[]): number {
  assertLayout();
  let control = Buffer.alloc(0);
  if (fds.length) {
    const len = 16 + 4 * fds.length;
    control = Buffer.alloc((len + 7) & ~7);
    control.writeBigUInt64LE(BigInt(len), 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((fd, i) => control.writeInt32LE(fd, 16 + 4 * i));
  }
  const iov = iovec(data);
  const hdr = msghdr(iov, control);
  const fn = libcFn('long sendmsg(int fd, const void *msg, int flags)');
  pinned.push([data, control, iov]);
  try {
    return retryEintr(() => check(fn(sock, hdr, MSG_NOSIGNAL), 'sendmsg', 'the init plan'));
  } finally {
    pinned.pop();
  }
}

export const SHUT_RD = 0;
export const SHUT_WR = 1;

/** shutdown(2): with SHUT_WR the peer reads EOF (for conmon's attach socket: close stdin). */
export function shutdown(fd: number, how: number): void {
  check(libcFn('int shutdown(int fd, int how)')(fd, how), 'shutdown');
}

// ---- IPv4 sockets that hold a host port ----

const AF_INET = 2;
const SOCK_STREAM_INET = 1;
const SOCK_DGRAM = 2;
const SO_REUSEADDR = 2;

/**
 * A close-on-exec IPv4 socket bound to `ip`:`port` (TCP: listening), so that no other process
 * can take that port while it is open: what a container engine holds for a published port
 * (docker's proxy and podman's conmon do the same). A taken port throws KernelError EADDRINUSE.
 */
export function holdInetPort(proto: 'tcp' | 'udp', ip: string, port: number): number {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new RangeError(`${ip}: not an IPv4 address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`${port}: not a port`);
  const what = `${proto} ${ip}:${port}`;
  const fd = check(libcFn('int socket(int domain, int type, int protocol)')(AF_INET, (proto === 'tcp' ? SOCK_STREAM_INET : SOCK_DGRAM) | SOCK_CLOEXEC, 0), 'socket', what);
  try {
    if (proto === 'tcp') {
      // As any TCP server: connections of an earlier holder in TIME_WAIT do not block the port.
      const one = Buffer.alloc(4);
      one.writeInt32LE(1, 0);
      check(libcFn('int setsockopt(int fd, int level, int name, const void *value, uint32 len)')(fd, SOL_SOCKET, SO_REUSEADDR, one, 4), 'setsockopt', `SO_REUSEADDR ${what}`);
    }
    const addr = Buffer.alloc(16);
    addr.writeUInt16LE(AF_INET, 0);
    addr.writeUInt16BE(port, 2);
    Buffer.from(octets).copy(addr, 4);
    check(libcFn('int bind(int fd, const void *addr, uint32 len)')(fd, addr, addr.length), 'bind', what);
    if (proto === 'tcp') check(libcFn('int listen(int fd, int backlog)')(fd, 1), 'listen', what);
    return fd;
  } catch (e) {
    libcFn('int close(int fd)')(fd);
    throw e;
  }
}
