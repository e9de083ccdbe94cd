// Terminal ioctls for the runtime's side of a container's terminal: window sizes, raw mode,
// non-blocking masters. (The pty itself is opened by the native init, in the container's
// devpts.)
//
// ioctl numbers are the asm-generic ones, the same on x86-64 and arm64.
import { check, libcFn } from './ffi.js';

const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;

function ioctl(): (fd: number, req: number, ...args: unknown[]) => number {
  return libcFn('int ioctl(int fd, unsigned long req, ...)') as unknown as (fd: number, req: number, ...args: unknown[]) => number;
}

export interface WinSize {
  rows: number;
  cols: number;
}

export function setWinSize(fd: number, size: WinSize): void {
  const ws = Buffer.alloc(8); // struct winsize { unsigned short row, col, xpixel, ypixel; }
  ws.writeUInt16LE(Math.min(size.rows, 0xffff), 0);
  ws.writeUInt16LE(Math.min(size.cols, 0xffff), 2);
  check(ioctl()(fd, TIOCSWINSZ, 'void *', ws), 'ioctl', 'TIOCSWINSZ');
}

/** The window size of terminal `fd`, or null when it is not a terminal. */
export function getWinSize(fd: number): WinSize | null {
  const ws = Buffer.alloc(8);
  if (ioctl()(fd, TIOCGWINSZ, 'void *', ws) < 0) return null;
  return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2) };
}

export function isatty(fd: number): boolean {
  return (libcFn('int isatty(int fd)')(fd) as number) === 1;
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** Set O_NONBLOCK on `fd` (its open file description). */
export function setNonBlocking(fd: number): void {
  const fcntl = libcFn('int fcntl(int fd, int cmd, ...)');
  const flags = check(fcntl(fd, F_GETFL), 'fcntl', `F_GETFL ${fd}`);
  if (!(flags & O_NONBLOCK)) check(fcntl(fd, F_SETFL, 'int', flags | O_NONBLOCK), 'fcntl', `F_SETFL ${fd}`);
}

// struct termios is 60 bytes with glibc on x86-64 and arm64; a little more room costs nothing.
const TERMIOS_SIZE = 64;
const TCSANOW = 0;

/**
 * Put terminal `fd` in raw mode as cfmakeraw(3) does (no echo, no line editing, no signals
 * from keys, no output processing), and return the previous settings for restoreTerminal.
 * Node's setRawMode keeps ONLCR, which would turn the container's \r\n into \r\r\n.
 */
export function makeRaw(fd: number): Buffer {
  const saved = Buffer.alloc(TERMIOS_SIZE);
  check(libcFn('int tcgetattr(int fd, void *t)')(fd, saved), 'tcgetattr', `fd ${fd}`);
  const raw = Buffer.from(saved);
  libcFn('void cfmakeraw(void *t)')(raw);
  check(libcFn('int tcsetattr(int fd, int act, const void *t)')(fd, TCSANOW, raw), 'tcsetattr', `fd ${fd}`);
  return saved;
}

/** Put back what makeRaw saved. */
export function restoreTerminal(fd: number, saved: Buffer): void {
  check(libcFn('int tcsetattr(int fd, int act, const void *t)')(fd, TCSANOW, saved), 'tcsetattr', `fd ${fd}`);
}
