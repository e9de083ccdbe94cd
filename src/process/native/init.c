/*
 * mydocker-runc-init: the container's native init and exec helper.
 *
 * It EXECUTES a plan computed by the TypeScript runtime (src/process/steps.ts): a list of
 * steps (namespaces to create or join, mounts with their targets resolved inside the rootfs,
 * device nodes, pivot_root, hostname, sysctls, masks, rlimits, hooks, credentials,
 * capabilities, no_new_privs, a seccomp program already compiled to BPF, execve). It never
 * reads config.json and decides nothing: every path, flag, value and the order of the steps
 * come from the plan. What it adds is what only a single-threaded native process can do
 * (unshare a user namespace, fork into a new PID namespace) and a start-up measured in
 * hundreds of microseconds instead of a Node process's tens of milliseconds.
 *
 * The protocol with the runtime (one stream socket, fd argv[1]; frames of u32 type, u32
 * length, payload; documented with the step table in src/process/native/protocol.ts):
 *
 *   runtime -> init   PLAN      the steps; SCM_RIGHTS carries the fds they refer to (slots 0..n-1)
 *   runtime -> init   CONTINUE  answers a SYNC
 *   init -> runtime   PID       i32: the pid FORK created (the container's process)
 *   init -> runtime   SYNC      tag: the init waits for CONTINUE (e.g. "userns": write our id
 *                               maps; "namespaces": run prestart/createRuntime hooks)
 *   init -> runtime   REPORT    tag (e.g. "ready", "exec", "mount <id> <path>")
 *   init -> runtime   ERROR     i32 errno, then one line naming the spec field, the call, the
 *                               path and errno
 *
 * EOF from the runtime at a SYNC means it went away: we exit without a word. After WAIT_FIFO
 * (create's exec.fifo has been opened by `start`), failures are written as a line to the FIFO,
 * which `start` reads; the socket and the FIFO are close-on-exec, so EOF means execve worked.
 *
 * Built by `make` (src/build/build-native.sh) into dist/mydocker-runc-init; the runtime runs
 * it from a sealed memfd copy, so that no process of the container can ever reach the host's
 * file through /proc/<pid>/exe (CVE-2019-5736).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

/* ---- the protocol (keep in step with protocol.ts; a unit test compares the two) ---------- */

enum frame {
  FRAME_PLAN = 1,
  FRAME_CONTINUE = 2,
  FRAME_PID = 16,
  FRAME_SYNC = 17,
  FRAME_REPORT = 18,
  FRAME_ERROR = 19,
};

enum op {
  OP_END = 0,
  OP_CONTEXT = 1,
  OP_TRACE = 2,
  OP_UNSHARE = 3,
  OP_SETNS_PATH = 4,
  OP_SETNS_SLOT = 5,
  OP_SYNC = 6,
  OP_REPORT = 7,
  OP_FORK = 8,
  OP_SETSID = 9,
  OP_SETRESUID = 10,
  OP_SETRESGID = 11,
  OP_SETGROUPS = 12,
  OP_PRCTL = 13,
  OP_OPEN = 14,
  OP_CLOSE = 15,
  OP_WRITE_FILE = 16,
  OP_WRITE_SLOT = 17,
  OP_SETRLIMIT = 18,
  OP_SETHOSTNAME = 19,
  OP_SETDOMAINNAME = 20,
  OP_MOUNT = 21,
  OP_MOUNT_IN_ROOT = 22,
  OP_REMOUNT_IN_ROOT = 23,
  OP_SETATTR_IN_ROOT = 24,
  OP_MKNOD_IN_ROOT = 25,
  OP_SYMLINK_IN_ROOT = 26,
  OP_CHDIR = 27,
  OP_CHROOT = 28,
  OP_CHROOT_SLOT = 29,
  OP_PIVOT_ROOT = 30,
  OP_MOVE_ROOT = 31,
  OP_MASK = 32,
  OP_READONLY = 33,
  OP_REMOUNT_RO = 34,
  OP_CONSOLE = 35,
  OP_HOOK = 36,
  OP_SECCOMP = 37,
  OP_CAP_BOUNDING = 38,
  OP_CAPSET = 39,
  OP_CAP_AMBIENT = 40,
  OP_UMASK = 41,
  OP_CLOSE_FROM = 42,
  OP_ENV = 43,
  OP_HOME = 44,
  OP_LOOKUP = 45,
  OP_WAIT_FIFO = 46,
  OP_EXEC = 47,
  OP_RESET_SIGNALS = 48,
  OP_CLONE_TREE = 49,
  OP_MOVE_MOUNT_IN_ROOT = 50,
  OP_RECORD_MOUNT = 51,
  OP_OPEN_IN_ROOT = 52,
};

#define MAX_SLOTS 256
#define MAX_FDS_IN_PLAN 64

/* ---- state ---------------------------------------------------------------------------------- */

static int sync_fd = -1;       /* the socket to the runtime (-1 once closed) */
static int started_fd = -1;    /* exec.fifo, once `start` has opened it: failures go there */
static int slots[MAX_SLOTS];   /* fds the steps refer to */
static const char *context = "init"; /* the spec field the current steps serve */
static char **exec_env;        /* ENV (and HOME) for EXEC */
static size_t exec_env_len;
static char exec_path[PATH_MAX]; /* LOOKUP's result */
static int tracing = -1; /* the fd trace lines go to (stderr, or MYDOCKER_RUNC_TRACE=/file), -1: off */

/* ---- reporting -------------------------------------------------------------------------------- */

static void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    len -= (size_t)n;
  }
}

static int send_frame(uint32_t type, const void *a, uint32_t alen, const void *b, uint32_t blen) {
  uint32_t hdr[2] = {type, alen + blen};
  struct iovec iov[3] = {{hdr, sizeof hdr}, {(void *)a, alen}, {(void *)b, blen}};
  size_t want = sizeof hdr + alen + blen, done = 0;
  int cnt = 3, idx = 0;
  while (done < want) {
    ssize_t n = writev(sync_fd, iov + idx, cnt - idx);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    done += (size_t)n;
    while (idx < cnt && (size_t)n >= iov[idx].iov_len) {
      n -= (ssize_t)iov[idx].iov_len;
      idx++;
    }
    if (idx < cnt) {
      iov[idx].iov_base = (char *)iov[idx].iov_base + n;
      iov[idx].iov_len -= (size_t)n;
    }
  }
  return 0;
}

static const char *errname(int err) {
  const char *n = strerrorname_np(err);
  return n ? n : "errno";
}

/* Report `message` (one line) where the runtime will read it, and exit. */
static void die_with(int err, const char *message) __attribute__((noreturn));
static void die_with(int err, const char *message) {
  int sent = 0;
  if (started_fd >= 0) {
    write_all(started_fd, message, strlen(message));
    sent = 1;
  } else if (sync_fd >= 0) {
    int32_t e = err;
    sent = send_frame(FRAME_ERROR, &e, sizeof e, message, (uint32_t)strlen(message)) == 0;
  }
  if (!sent) {
    dprintf(2, "mydocker-runc: %s\n", message);
  }
  _exit(err == ENOENT ? 127 : err == EACCES ? 126 : 1);
}

/* "<context>: <what>: <strerror> (<ENAME>)" from errno, as KernelError words it. */
static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  int err = errno;
  char what[1024], line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(line, sizeof line, "%s: %s: %s (%s)", context, what, strerror(err), errname(err));
  die_with(err, line);
}

/* "<context>: <message>" with no errno behind it. */
static void fail_msg(int err, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void fail_msg(int err, const char *fmt, ...) {
  char what[1024], line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(line, sizeof line, "%s: %s", context, what);
  die_with(err, line);
}

static void trace(const char *phase) {
  if (tracing < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  dprintf(tracing, "mydocker-runc trace %lld.%03ld %d init %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
          (ts.tv_nsec / 1000) % 1000, (int)getpid(), phase);
}

/* ---- reading frames ------------------------------------------------------------------------- */

static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 0;
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

/* The next frame's header, with any fds that came along (into slots 0..). 0 on EOF. */
static int read_header(uint32_t hdr[2], int *nfds) {
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS_IN_PLAN)];
  struct iovec iov = {hdr, 8};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t n;
  do n = recvmsg(sync_fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  *nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    memcpy(slots + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)count);
    *nfds += count;
  }
  if (n < 8 && read_full(sync_fd, (char *)hdr + n, (size_t)(8 - n)) <= 0) return 0;
  return 1;
}

/* ---- the plan reader ------------------------------------------------------------------------ */

static const uint8_t *plan_p, *plan_end;

static void truncated(void) __attribute__((noreturn));
static void truncated(void) {
  errno = EPROTO;
  fail("plan: truncated step");
}

static uint32_t u32(void) {
  if (plan_end - plan_p < 4) truncated();
  uint32_t v;
  memcpy(&v, plan_p, 4);
  plan_p += 4;
  return v;
}

static int64_t i64(void) {
  if (plan_end - plan_p < 8) truncated();
  int64_t v;
  memcpy(&v, plan_p, 8);
  plan_p += 8;
  return v;
}

/* A string: u32 length, the bytes, a NUL (so it can be used in place). */
static const char *str(void) {
  uint32_t n = u32();
  if ((uint64_t)(plan_end - plan_p) < (uint64_t)n + 1 || plan_p[n] != 0) truncated();
  const char *s = (const char *)plan_p;
  plan_p += n + 1;
  return s;
}

/* A string that stands for NULL when empty (mount's source, fstype, data). */
static const char *opt_str(void) {
  const char *s = str();
  return *s ? s : NULL;
}

static const uint8_t *bytes(uint32_t *len) {
  *len = u32();
  if ((uint64_t)(plan_end - plan_p) < *len) truncated();
  const uint8_t *b = plan_p;
  plan_p += *len;
  return b;
}

/* A list of strings: u32 count, then each string; a NULL-terminated array. */
static char **strs(size_t *count) {
  uint32_t n = u32();
  char **v = calloc((size_t)n + 1, sizeof(char *));
  if (!v) fail("plan: out of memory");
  for (uint32_t i = 0; i < n; i++) v[i] = (char *)str();
  if (count) *count = n;
  return v;
}

static int slot_fd(uint32_t slot) {
  if (slot >= MAX_SLOTS || slots[slot] < 0) {
    errno = EBADF;
    fail("plan: slot %u holds no fd", slot);
  }
  return slots[slot];
}

static void set_slot(uint32_t slot, int fd) {
  if (slot >= MAX_SLOTS) {
    errno = EINVAL;
    fail("plan: slot %u out of range", slot);
  }
  if (slots[slot] >= 0) close(slots[slot]);
  slots[slot] = fd;
}

/* ---- helpers: paths inside the rootfs ------------------------------------------------------- */

static int openat2_in(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* An O_PATH fd of `path` resolved inside the root `rootfd` (never following a link out of it),
 * or -1 with errno (ENOENT when it does not exist). */
static int resolve_in_root(int rootfd, const char *path) {
  while (*path == '/') path++;
  return openat2_in(rootfd, *path ? path : ".", O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

enum { CREATE_NONE = 0, CREATE_DIR = 1, CREATE_FILE = 2 };

/* Like resolve_in_root, creating what is missing: directories, and the last component as an
 * empty file with CREATE_FILE. Each missing component is made inside its resolved parent. */
static int ensure_in_root(int rootfd, const char *path, int create, const char *what) {
  if (create == CREATE_NONE) {
    int fd = resolve_in_root(rootfd, path);
    if (fd < 0) fail("%s: resolve %s in the rootfs", what, path);
    return fd;
  }
  char buf[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    fail("%s: %s", what, path);
  }
  memcpy(buf, path, len + 1);
  int parent = openat2_in(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT);
  if (parent < 0) fail("%s: open the rootfs", what);
  char *p = buf;
  for (;;) {
    while (*p == '/') p++;
    if (!*p) break;
    char *end = p;
    while (*end && *end != '/') end++;
    int last = 1;
    for (char *q = end; *q; q++)
      if (*q != '/') last = 0;
    char saved = *end;
    *end = 0;
    int fd = resolve_in_root(rootfd, buf);
    if (fd < 0 && errno == ENOENT) {
      if (strcmp(p, "..") == 0) {
        errno = ENOENT;
        fail("%s: cannot resolve %s inside the rootfs", what, path);
      }
      int r;
      if (last && create == CREATE_FILE) {
        r = openat(parent, p, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(parent, p, 0755);
      }
      if (r < 0 && errno == EEXIST) {
        /* Resolution said "missing", creation says "exists": a dangling symlink. */
        fail_msg(EEXIST, "%s: /%s is a dangling symlink in the rootfs", what, buf);
      }
      if (r < 0) fail("%s: create /%s in the rootfs", what, buf);
      fd = resolve_in_root(rootfd, buf);
    }
    if (fd < 0) fail("%s: resolve /%s in the rootfs", what, buf);
    close(parent);
    parent = fd;
    *end = saved;
    p = end;
  }
  return parent;
}

static const char *fd_path(int fd, char *buf, size_t len) {
  snprintf(buf, len, "/proc/self/fd/%d", fd);
  return buf;
}

/* The flags a mount has now, as MS_* bits (statvfs's ST_* differ for relatime). */
static unsigned long mount_flags_of(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) fail("statvfs %s", path);
  unsigned long f = 0;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* Keep on a read-only remount: what the kernel would refuse to drop from a locked mount. */
#define KEEP_ON_REMOUNT (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME)

/* ---- steps -------------------------------------------------------------------------------- */

static void op_sync(const char *tag) {
  if (send_frame(FRAME_SYNC, tag, (uint32_t)strlen(tag), NULL, 0) < 0) _exit(1);
  uint32_t hdr[2];
  int nfds = 0;
  if (!read_header(hdr, &nfds) || hdr[0] != FRAME_CONTINUE) _exit(1); /* the runtime went away */
  char skip[256];
  for (uint32_t left = hdr[1]; left > 0;) {
    uint32_t n = left < sizeof skip ? left : sizeof skip;
    if (read_full(sync_fd, skip, n) <= 0) _exit(1);
    left -= n;
  }
}

static void op_fork(void) {
  /* The child must not speak before the runtime knows its pid (the hooks it asks for read
   * /proc/<pid>): it waits for EOF on a pipe whose writing end only we hold, until we exit. */
  int order[2];
  if (pipe2(order, O_CLOEXEC) < 0) fail("pipe");
  fflush(NULL);
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) fail("clone");
  if (pid > 0) {
    /* We were only the way in: the child is the container's process, our parent's child. */
    int32_t p = pid;
    send_frame(FRAME_PID, &p, sizeof p, NULL, 0);
    _exit(0);
  }
  close(order[1]);
  char c;
  while (read(order[0], &c, 1) < 0 && errno == EINTR) {
  }
  close(order[0]);
}

static void op_mask(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT) return;
    fail("stat %s", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0,mode=755") < 0) fail("mount tmpfs on %s", path);
  } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
    fail("mount /dev/null on %s", path);
  }
}

static void remount_ro(const char *path, unsigned long extra) {
  unsigned long keep = mount_flags_of(path) & KEEP_ON_REMOUNT;
  if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep | extra, NULL) < 0) fail("remount %s read-only", path);
}

static void op_readonly(const char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return;
    fail("mount %s on itself", path);
  }
  remount_ro(path, MS_REC);
}

/* process.terminal: a pty of the container's devpts, the slave as our 0/1/2 and controlling
 * terminal, the master sent down the console socket as runc sends it (data "/dev/ptmx", one
 * SCM_RIGHTS fd), which is what containerd's shim and conmon accept. */
static void op_console(int sock, uint32_t rows, uint32_t cols, int mount_console) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("open /dev/ptmx");
  int unlock = 0, n = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("unlock the pty");
  if (ioctl(master, TIOCGPTN, &n) < 0) fail("name the pty");
  char slave_path[64];
  snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", n);
  int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("open %s", slave_path);
  if (rows > 0 && cols > 0) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail("set the size of %s", slave_path);
  }
  if (mount_console) {
    struct stat st;
    if (lstat("/dev/console", &st) == 0 && S_ISLNK(st.st_mode)) unlink("/dev/console");
    int fd = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) fail("create /dev/console");
    if (fd >= 0) close(fd);
    if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0) fail("bind %s on /dev/console", slave_path);
  }
  static const char name[] = "/dev/ptmx";
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {(void *)name, sizeof name - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  ssize_t r;
  do r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0) fail("send the pty master to the console socket");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) fail("dup2 the pty slave to fd %d", fd);
  if (ioctl(0, TIOCSCTTY, 0) < 0) fail("make %s the controlling terminal", slave_path);
  close(master);
  close(slave);
}

/* Every signal at its default, none blocked: what we were started with must not reach the
 * container's process (ignored dispositions survive execve). glibc's posix_spawn hands its
 * children its own internal signals (32, 33) ignored, and refuses to touch them itself: the
 * raw rt_sigaction does. */
static void reset_signals(void) {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  struct {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
  } dfl = {SIG_DFL, 0, NULL, 0};
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  }
}

/* OCI hooks run by the init itself (createContainer, startContainer): the state JSON on stdin,
 * only the hook's env, `timeout` seconds then SIGKILL; the last line of its stderr in the error. */
static void op_hook(const char *path, char **args, char **env, uint32_t timeout, const char *pre, const char *post) {
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) fail("pipe");
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    reset_signals();
    dup2(in[0], 0);
    int null = open("/dev/null", O_WRONLY);
    dup2(null >= 0 ? null : err[1], 1);
    dup2(err[1], 2);
    char *const none[] = {(char *)path, NULL};
    execve(path, args[0] ? args : none, env);
    dprintf(2, "%s\n", strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(in[0]);
  close(err[1]);
  char state[8192];
  int slen = snprintf(state, sizeof state, "%s%d%s", pre, (int)getpid(), post);
  if (slen > 0) write_all(in[1], state, (size_t)slen < sizeof state ? (size_t)slen : sizeof state - 1); /* EPIPE: its business */
  close(in[1]);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  char tail[4096];
  size_t tlen = 0;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int timed_out = 0, open_err = 1;
  for (;;) {
    struct pollfd pf[2] = {{pidfd, POLLIN, 0}, {open_err ? err[0] : -1, POLLIN, 0}};
    int wait_ms = -1;
    if (timeout > 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long elapsed = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
      wait_ms = (int)((long long)timeout * 1000 - elapsed);
      if (wait_ms <= 0) {
        kill(pid, SIGKILL);
        timed_out = 1;
        break;
      }
    }
    int r = poll(pf, 2, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (pf[1].revents) {
      char buf[1024];
      ssize_t n = read(err[0], buf, sizeof buf);
      if (n <= 0) open_err = 0;
      else {
        if (tlen + (size_t)n > sizeof tail) {
          size_t drop = tlen + (size_t)n - sizeof tail;
          memmove(tail, tail + drop, tlen - drop);
          tlen -= drop;
        }
        memcpy(tail + tlen, buf, (size_t)n);
        tlen += (size_t)n;
      }
    }
    if (pf[0].revents) break;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(pidfd);
  close(err[0]);
  if (timed_out) fail_msg(ETIMEDOUT, "timed out after %us", timeout);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  while (tlen > 0 && (tail[tlen - 1] == '\n' || tail[tlen - 1] == ' ')) tlen--;
  tail[tlen] = 0;
  char *last = strrchr(tail, '\n');
  last = last ? last + 1 : tail;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && strcmp(last, strerror(ENOENT)) == 0) fail_msg(ENOENT, "no such file");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126 && strcmp(last, strerror(EACCES)) == 0) fail_msg(EACCES, "permission denied");
  if (WIFSIGNALED(status)) fail_msg(0, "killed by %s%s%s", sigabbrev_np(WTERMSIG(status)) ? "SIG" : "signal ",
                                    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "", *last ? ": " : "");
  fail_msg(0, "exit status %d%s%s", WEXITSTATUS(status), *last ? ": " : "", last);
}

/* HOME, when ENV has none (or an empty one): the passwd home of `uid` in the container's
 * /etc/passwd, "/" without one (runc's rule). A FIFO there must not block us. */
static void op_home(uint32_t uid) {
  for (size_t i = 0; i < exec_env_len; i++)
    if (strncmp(exec_env[i], "HOME=", 5) == 0 && exec_env[i][5]) return;
  static char home[PATH_MAX + 6];
  const char *found = "/";
  int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  char *text = NULL;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (16 << 20)) {
    text = malloc((size_t)st.st_size + 1);
    ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
    if (n >= 0) {
      text[n] = 0;
      for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        while (*line == ' ' || *line == '\t') line++;
        if (*line && *line != '#') {
          char *f[7] = {0};
          int nf = 0;
          for (char *p = line; nf < 7; nf++) {
            f[nf] = p;
            char *c = strchr(p, ':');
            if (!c) {
              nf++;
              break;
            }
            *c = 0;
            p = c + 1;
          }
          if (nf >= 3 && *f[2]) {
            char *end;
            unsigned long u = strtoul(f[2], &end, 10);
            if (!*end && u == uid) {
              found = nf >= 6 ? f[5] : "";
              break;
            }
          }
        }
        line = next;
      }
    }
  }
  if (fd >= 0) close(fd);
  snprintf(home, sizeof home, "HOME=%s", found);
  free(text);
  size_t j = 0;
  for (size_t i = 0; i < exec_env_len; i++)
    if (strncmp(exec_env[i], "HOME=", 5) != 0) exec_env[j++] = exec_env[i];
  exec_env_len = j;
  char **grown = realloc(exec_env, (exec_env_len + 2) * sizeof(char *));
  if (!grown) fail("out of memory");
  exec_env = grown;
  exec_env[exec_env_len++] = home;
  exec_env[exec_env_len] = NULL;
}

static int is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* execvp's search, with the container's PATH, inside our (the container's) root. */
static void op_lookup(const char *file) {
  if (strchr(file, '/')) {
    /* runc's words, and docker's exit codes: 127 for a missing file, 126 for one that cannot run. */
    if (!is_executable(file)) {
      struct stat st;
      if (stat(file, &st) < 0) fail_msg(ENOENT, "exec: \"%s\": stat %s: no such file or directory", file, file);
      fail_msg(EACCES, "exec: \"%s\": permission denied", file);
    }
    snprintf(exec_path, sizeof exec_path, "%s", file);
    return;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (size_t i = 0; i < exec_env_len; i++)
    if (strncmp(exec_env[i], "PATH=", 5) == 0) path = exec_env[i] + 5;
  for (const char *p = path;;) {
    const char *end = strchrnul(p, ':');
    char cand[PATH_MAX];
    int n = end == p ? snprintf(cand, sizeof cand, "./%s", file) : snprintf(cand, sizeof cand, "%.*s/%s", (int)(end - p), p, file);
    if (n > 0 && (size_t)n < sizeof cand && is_executable(cand)) {
      memcpy(exec_path, cand, (size_t)n + 1);
      return;
    }
    if (!*end) break;
    p = end + 1;
  }
  fail_msg(ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

static void exit2(int sig) {
  (void)sig;
  _exit(2);
}

/* Block until `start` opens exec.fifo for reading, then say "0" and keep our end: it is
 * close-on-exec, so `start` reads EOF exactly when execve succeeds (or our error line). */
static void op_wait_fifo(int fd) {
  /* A PID 1 only gets the signals it handles: TERM, INT, HUP and QUIT end a created
   * container, as they end runc's waiting init (exit status 2, as its Go runtime's). */
  struct sigaction sa = {.sa_handler = exit2};
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  char p[64];
  int w;
  do w = open(fd_path(fd, p, sizeof p), O_WRONLY | O_CLOEXEC);
  while (w < 0 && errno == EINTR);
  if (w < 0) fail("open exec.fifo");
  write_all(w, "0", 1);
  started_fd = w;
}

/* A user namespace with these maps, as an fd (for an id-mapped mount): a child unshares it
 * and waits; we write its maps (we hold the host's CAP_SETUID/CAP_SETGID) and open it. */
static int userns_with_maps(const char *uidmap, const char *gidmap) {
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0) fail("pipe");
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    close(ready[0]);
    close(hold[1]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
    write_all(ready[1], &c, 1);
    read(hold[0], &c, 1);
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char c = 0;
  if (read(ready[0], &c, 1) != 1 || c != 'u') {
    errno = EPERM;
    fail("unshare a user namespace for the id mapping");
  }
  char p[64];
  int fd;
  snprintf(p, sizeof p, "/proc/%d/uid_map", (int)pid);
  if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0 || write(fd, uidmap, strlen(uidmap)) < 0) fail("write %s", p);
  close(fd);
  snprintf(p, sizeof p, "/proc/%d/gid_map", (int)pid);
  if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0 || write(fd, gidmap, strlen(gidmap)) < 0) fail("write %s", p);
  close(fd);
  snprintf(p, sizeof p, "/proc/%d/ns/user", (int)pid);
  int ns = open(p, O_RDONLY | O_CLOEXEC);
  if (ns < 0) fail("open %s", p);
  close(hold[1]);
  close(ready[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return ns;
}

/* ---- the interpreter ---------------------------------------------------------------------- */

static void run(void) {
  for (;;) {
    uint32_t op = u32();
    switch (op) {
    case OP_END:
      return;
    case OP_CONTEXT:
      context = str();
      break;
    case OP_TRACE:
      trace(str());
      break;
    case OP_UNSHARE: {
      uint32_t flags = u32();
      if (unshare((int)flags) < 0) fail("unshare 0x%x", flags);
      break;
    }
    case OP_SETNS_PATH: {
      const char *path = str();
      uint32_t type = u32();
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail("open %s", path);
      if (setns(fd, (int)type) < 0) fail("setns %s", path);
      close(fd);
      break;
    }
    case OP_SETNS_SLOT: {
      uint32_t slot = u32(), type = u32();
      if (setns(slot_fd(slot), (int)type) < 0) fail("setns");
      set_slot(slot, -1);
      break;
    }
    case OP_SYNC:
      op_sync(str());
      break;
    case OP_REPORT: {
      const char *tag = str();
      if (send_frame(FRAME_REPORT, tag, (uint32_t)strlen(tag), NULL, 0) < 0) _exit(1);
      break;
    }
    case OP_FORK:
      op_fork();
      break;
    case OP_SETSID:
      if (setsid() < 0) fail("setsid");
      break;
    case OP_SETRESUID: {
      uint32_t id = u32();
      if (setresuid(id, id, id) < 0) fail("setresuid %u", id);
      break;
    }
    case OP_SETRESGID: {
      uint32_t id = u32();
      if (setresgid(id, id, id) < 0) fail("setresgid %u", id);
      break;
    }
    case OP_SETGROUPS: {
      uint32_t n = u32();
      gid_t *g = calloc(n ? n : 1, sizeof(gid_t));
      if (!g) fail("out of memory");
      for (uint32_t i = 0; i < n; i++) g[i] = u32();
      if (setgroups(n, g) < 0) fail("setgroups");
      free(g);
      break;
    }
    case OP_PRCTL: {
      uint32_t option = u32();
      int64_t arg = i64();
      if (prctl((int)option, (unsigned long)arg, 0, 0, 0) < 0) fail("prctl %u", option);
      break;
    }
    case OP_OPEN: {
      uint32_t slot = u32();
      const char *path = str();
      uint32_t flags = u32();
      int fd = open(path, (int)flags | O_CLOEXEC);
      if (fd < 0) fail("open %s", path);
      set_slot(slot, fd);
      break;
    }
    case OP_OPEN_IN_ROOT: {
      uint32_t slot = u32(), root = u32();
      const char *path = str();
      int fd = ensure_in_root(slot_fd(root), path, CREATE_NONE, path);
      set_slot(slot, fd);
      break;
    }
    case OP_CLOSE:
      set_slot(u32(), -1);
      break;
    case OP_WRITE_FILE: {
      const char *path = str(), *data = str();
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      if (fd < 0) fail("open %s", path);
      if (write(fd, data, strlen(data)) < 0) fail("write %s", path);
      close(fd);
      break;
    }
    case OP_WRITE_SLOT: {
      uint32_t slot = u32();
      const char *data = str();
      if (write(slot_fd(slot), data, strlen(data)) < 0) fail("write");
      break;
    }
    case OP_SETRLIMIT: {
      uint32_t res = u32();
      struct rlimit rl = {.rlim_cur = (rlim_t)i64(), .rlim_max = (rlim_t)0};
      rl.rlim_max = (rlim_t)i64();
      if (setrlimit((int)res, &rl) < 0) fail("setrlimit");
      break;
    }
    case OP_SETHOSTNAME: {
      const char *s = str();
      if (sethostname(s, strlen(s)) < 0) fail("sethostname");
      break;
    }
    case OP_SETDOMAINNAME: {
      const char *s = str();
      if (setdomainname(s, strlen(s)) < 0) fail("setdomainname");
      break;
    }
    case OP_MOUNT: {
      const char *src = opt_str(), *target = str(), *fstype = opt_str();
      int64_t flags = i64();
      const char *data = opt_str();
      if (mount(src, target, fstype, (unsigned long)flags, data) < 0) fail("mount %s on %s", src ? src : fstype ? fstype : "none", target);
      break;
    }
    case OP_MOUNT_IN_ROOT: {
      uint32_t root = u32();
      const char *dest = str();
      uint32_t create = u32();
      const char *src = opt_str(), *fstype = opt_str();
      int64_t flags = i64();
      const char *data = opt_str();
      int fd = ensure_in_root(slot_fd(root), dest, (int)create, "mount point");
      char p[64];
      if (mount(src, fd_path(fd, p, sizeof p), fstype, (unsigned long)flags, data) < 0)
        fail("mount %s on %s", src ? src : fstype ? fstype : "none", dest);
      close(fd);
      break;
    }
    case OP_REMOUNT_IN_ROOT: {
      uint32_t root = u32();
      const char *dest = str();
      int64_t flags = i64(), keep = i64();
      int fd = ensure_in_root(slot_fd(root), dest, CREATE_NONE, "remount");
      char p[64];
      fd_path(fd, p, sizeof p);
      unsigned long kept = keep ? mount_flags_of(p) & (unsigned long)keep : 0;
      if (mount(NULL, p, NULL, MS_REMOUNT | (unsigned long)flags | kept, NULL) < 0) fail("remount %s", dest);
      close(fd);
      break;
    }
    case OP_SETATTR_IN_ROOT: {
      uint32_t root = u32();
      const char *dest = str();
      int64_t set = i64(), clr = i64();
      int fd = ensure_in_root(slot_fd(root), dest, CREATE_NONE, "mount_setattr");
      struct mount_attr attr = {.attr_set = (uint64_t)set, .attr_clr = (uint64_t)clr};
      if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) fail("mount_setattr %s", dest);
      close(fd);
      break;
    }
    case OP_MKNOD_IN_ROOT: {
      uint32_t root = u32();
      const char *path = str();
      uint32_t mode = u32();
      int64_t dev = i64();
      uint32_t uid = u32(), gid = u32();
      const char *slash = strrchr(path, '/');
      char parent_path[PATH_MAX];
      snprintf(parent_path, sizeof parent_path, "%.*s", slash ? (int)(slash - path) : 0, path);
      const char *name = slash ? slash + 1 : path;
      int parent = ensure_in_root(slot_fd(root), *parent_path ? parent_path : "/", CREATE_DIR, path);
      char p[PATH_MAX];
      snprintf(p, sizeof p, "/proc/self/fd/%d/%s", parent, name);
      unlink(p);
      if (mknod(p, mode, (dev_t)dev) < 0) fail("mknod %s", path);
      if (chown(p, uid, gid) < 0) fail("chown %s", path);
      if (chmod(p, mode & 07777) < 0) fail("chmod %s", path);
      close(parent);
      break;
    }
    case OP_SYMLINK_IN_ROOT: {
      uint32_t root = u32();
      const char *dir = str(), *name = str(), *target = str();
      uint32_t replace_any = u32();
      int d = ensure_in_root(slot_fd(root), dir, CREATE_DIR, dir);
      char p[PATH_MAX];
      snprintf(p, sizeof p, "/proc/self/fd/%d/%s", d, name);
      struct stat st;
      if (lstat(p, &st) == 0) {
        if (!replace_any && !S_ISLNK(st.st_mode)) {
          close(d);
          break;
        }
        unlink(p);
      }
      if (symlink(target, p) < 0) fail("symlink %s/%s -> %s", dir, name, target);
      close(d);
      break;
    }
    case OP_CHDIR: {
      const char *path = str();
      if (chdir(path) < 0) fail("chdir %s", path);
      break;
    }
    case OP_CHROOT: {
      const char *path = str();
      if (chroot(path) < 0) fail("chroot %s", path);
      if (chdir("/") < 0) fail("chdir /");
      break;
    }
    case OP_CHROOT_SLOT: {
      uint32_t slot = u32();
      if (fchdir(slot_fd(slot)) < 0) fail("fchdir");
      if (chroot(".") < 0) fail("chroot");
      if (chdir("/") < 0) fail("chdir /");
      set_slot(slot, -1);
      break;
    }
    case OP_PIVOT_ROOT: {
      /* pivot_root(".", ".") stacks the old root on the new one; detaching "." (made a slave
       * first, so that nothing propagates to the host) leaves only the rootfs (runc's way). */
      const char *root = str();
      if (chdir(root) < 0) fail("chdir %s", root);
      if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root %s", root);
      if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("make the old root a slave");
      if (umount2(".", MNT_DETACH) < 0) fail("detach the old root");
      if (chdir("/") < 0) fail("chdir /");
      break;
    }
    case OP_MOVE_ROOT: {
      const char *root = str();
      if (chdir(root) < 0) fail("chdir %s", root);
      if (mount(root, "/", NULL, MS_MOVE, NULL) < 0) fail("move %s to /", root);
      if (chroot(".") < 0) fail("chroot %s", root);
      if (chdir("/") < 0) fail("chdir /");
      break;
    }
    case OP_MASK:
      op_mask(str());
      break;
    case OP_READONLY:
      op_readonly(str());
      break;
    case OP_REMOUNT_RO:
      remount_ro(str(), 0);
      break;
    case OP_CONSOLE: {
      uint32_t slot = u32(), rows = u32(), cols = u32(), mc = u32();
      op_console(slot_fd(slot), rows, cols, (int)mc);
      set_slot(slot, -1);
      break;
    }
    case OP_HOOK: {
      const char *path = str();
      char **args = strs(NULL), **env = strs(NULL);
      uint32_t timeout = u32();
      const char *pre = str(), *post = str();
      op_hook(path, args, env, timeout, pre, post);
      free(args);
      free(env);
      break;
    }
    case OP_SECCOMP: {
      uint32_t flags = u32(), len;
      const uint8_t *prog = bytes(&len);
      struct sock_filter *filter = malloc(len ? len : 1);
      if (!filter) fail("out of memory");
      memcpy(filter, prog, len);
      struct sock_fprog fprog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = filter};
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog) < 0) fail("seccomp");
      free(filter);
      break;
    }
    case OP_CAP_BOUNDING: {
      uint64_t keep = (uint64_t)i64();
      uint32_t last = u32();
      for (uint32_t cap = 0; cap <= last && cap < 64; cap++) {
        if (keep & (1ULL << cap)) continue;
        int has = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (has < 0) {
          if (errno == EINVAL) break; /* beyond this kernel's last capability */
          fail("prctl PR_CAPBSET_READ %u", cap);
        }
        if (has && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail("drop capability %u from the bounding set", cap);
      }
      break;
    }
    case OP_CAPSET: {
      uint64_t e = (uint64_t)i64(), p = (uint64_t)i64(), inh = (uint64_t)i64();
      struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
      struct __user_cap_data_struct d[2] = {
          {.effective = (uint32_t)e, .permitted = (uint32_t)p, .inheritable = (uint32_t)inh},
          {.effective = (uint32_t)(e >> 32), .permitted = (uint32_t)(p >> 32), .inheritable = (uint32_t)(inh >> 32)},
      };
      if (syscall(SYS_capset, &h, d) < 0) fail("capset");
      break;
    }
    case OP_CAP_AMBIENT: {
      uint64_t raise = (uint64_t)i64();
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail("clear the ambient set");
      for (unsigned cap = 0; cap < 64; cap++)
        if ((raise & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) fail("raise ambient capability %u", cap);
      break;
    }
    case OP_UMASK:
      umask((mode_t)u32());
      break;
    case OP_CLOSE_FROM: {
      uint32_t min = u32();
      /* Only 0..min-1 (stdio and --preserve-fds) survive execve. */
      if (close_range(min, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail("close_range");
      for (uint32_t fd = 0; fd < min; fd++) {
        int f = fcntl((int)fd, F_GETFD);
        if (f >= 0 && (f & FD_CLOEXEC)) fcntl((int)fd, F_SETFD, f & ~FD_CLOEXEC);
      }
      break;
    }
    case OP_ENV:
      exec_env = strs(&exec_env_len);
      break;
    case OP_HOME:
      op_home(u32());
      break;
    case OP_LOOKUP:
      op_lookup(str());
      break;
    case OP_WAIT_FIFO: {
      uint32_t slot = u32();
      op_wait_fifo(slot_fd(slot));
      set_slot(slot, -1);
      break;
    }
    case OP_EXEC: {
      char **argv = strs(NULL);
      trace("execve");
      execve(exec_path, argv, exec_env ? exec_env : (char *[]){NULL});
      {
        /* runc's shape, `exec: "<path>": <why>`, which clients map to exit codes 126/127. */
        int err = errno;
        fail_msg(err, "exec: \"%s\": %s (%s)", exec_path, strerror(err), errname(err));
      }
    }
    case OP_RESET_SIGNALS:
      reset_signals();
      break;
    case OP_CLONE_TREE: {
      /* A detached copy of a bind source (open_tree OPEN_TREE_CLONE), id-mapped when maps are
       * given: made now, as the runtime's user in its mount namespace, and moved into the
       * container's mount namespace later (MOVE_MOUNT_IN_ROOT) — a user namespace's root may
       * not reach the source, and a mount of another namespace cannot be bound directly. */
      uint32_t slot = u32();
      const char *src = str();
      uint32_t recursive = u32(); /* bit 0: the submounts too (rbind); bit 1: id-map them too (ridmap) */
      const char *uidmap = str(), *gidmap = str();
      int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((recursive & 1) ? AT_RECURSIVE : 0));
      if (tree < 0) fail("open_tree %s", src);
      if (*uidmap) {
        int ns = userns_with_maps(uidmap, gidmap);
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
        if (mount_setattr(tree, "", AT_EMPTY_PATH | ((recursive & 2) ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) fail("id-map %s", src);
        close(ns);
      }
      set_slot(slot, tree);
      break;
    }
    case OP_MOVE_MOUNT_IN_ROOT: {
      uint32_t slot = u32(), root = u32();
      const char *dest = str();
      uint32_t create = u32();
      int fd = ensure_in_root(slot_fd(root), dest, (int)create, "mount point");
      if (move_mount(slot_fd(slot), "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) fail("move_mount onto %s", dest);
      close(fd);
      set_slot(slot, -1);
      break;
    }
    case OP_RECORD_MOUNT: {
      /* No mount namespace: tell the runtime what we mounted in the host's, so that delete
       * can undo exactly that (the mount id tells it from a later mount on the same path). */
      uint32_t root = u32();
      const char *dest = str();
      int fd = ensure_in_root(slot_fd(root), dest, CREATE_NONE, "record mount");
      struct statx sx;
      if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0) fail("statx %s", dest);
      char p[64], host[PATH_MAX], msg[PATH_MAX + 64];
      ssize_t n = readlink(fd_path(fd, p, sizeof p), host, sizeof host - 1);
      if (n < 0) fail("readlink %s", dest);
      host[n] = 0;
      int len = snprintf(msg, sizeof msg, "mount %llu %s", (unsigned long long)sx.stx_mnt_id, host);
      if (send_frame(FRAME_REPORT, msg, (uint32_t)len, NULL, 0) < 0) _exit(1);
      close(fd);
      break;
    }
    default:
      errno = EPROTO;
      fail("plan: unknown step %u", op);
    }
  }
}

int main(int argc, char **argv) {
  for (int i = 0; i < MAX_SLOTS; i++) slots[i] = -1;
  if (argc < 2) {
    dprintf(2, "mydocker-runc-init: started by the runtime only\n");
    return 2;
  }
  sync_fd = atoi(argv[1]);
  /* Our own executable (the sealed memfd) is not the container's business. */
  if (argc > 2) close(atoi(argv[2]));
  fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
  /* MYDOCKER_RUNC_TRACE=1: trace lines on stderr; =/abs/file: appended there (opened now, while
   * the host's file is in view). */
  const char *t = getenv("MYDOCKER_RUNC_TRACE");
  if (t && strcmp(t, "1") == 0) tracing = 2;
  else if (t && t[0] == '/') tracing = open(t, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  /* Not dumpable: a process of the container cannot ptrace us or read our /proc files while
   * we hold the host's fds (execve makes the new program dumpable again). */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* A hook that does not read its stdin must not kill us with SIGPIPE (reset before execve). */
  signal(SIGPIPE, SIG_IGN);
  trace("running");

  uint32_t hdr[2];
  int nfds = 0;
  if (!read_header(hdr, &nfds) || hdr[0] != FRAME_PLAN) return 1; /* the runtime went away */
  uint8_t *plan = malloc(hdr[1] ? hdr[1] : 1);
  if (!plan || read_full(sync_fd, plan, hdr[1]) <= 0) return 1;
  plan_p = plan;
  plan_end = plan + hdr[1];
  trace("plan received");
  run();
  return 0;
}
