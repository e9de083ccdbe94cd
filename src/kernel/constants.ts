// Kernel constants with no koffi behind them: importable from anywhere (validation, features,
// plans) without loading the FFI. The syscall wrappers in this directory use the same values.

// unshare(2) / setns(2) / clone(2) flags.
export const CLONE_FS = 0x00000200;
export const CLONE_FILES = 0x00000400;
export const CLONE_NEWTIME = 0x00000080;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// mount(2) flags.
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_SILENT = 0x8000;
export const MS_POSIXACL = 0x10000;
export const MS_UNBINDABLE = 0x20000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MS_RELATIME = 0x200000;
export const MS_I_VERSION = 0x800000;
export const MS_STRICTATIME = 0x1000000;
export const MS_LAZYTIME = 0x2000000;
export const MS_PROPAGATION = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED;

// umount2(2) flags.
export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;

// mount_setattr(2) attributes (Linux 5.12+). The atime attributes are one 3-bit field:
// setting one means clearing MOUNT_ATTR__ATIME first.
export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
export const MOUNT_ATTR__ATIME = 0x70;
export const MOUNT_ATTR_RELATIME = 0x0;
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;
export const MOUNT_ATTR_IDMAP = 0x100000;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000;
