#!/bin/sh
# Build a busybox rootfs from the host's static busybox (Debian's busybox-static).
#   src/build/make-rootfs.sh DIR
# `busybox --list` names busybox itself: never overwrite the binary with a link to itself.
set -eu
dir=$1
bb=$(command -v busybox || true)
[ -n "$bb" ] || { echo "make-rootfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
  # file(1) may be missing; ldd says "not a dynamic executable" for a static binary.
  ldd "$bb" 2>&1 | grep -q 'not a dynamic' || { echo "make-rootfs: $bb is not static (apt-get install busybox-static)" >&2; exit 1; }
fi
tmp=$dir.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/root" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/home" "$tmp/var" "$tmp/run"
cp "$bb" "$tmp/bin/busybox"
for a in $("$bb" --list); do
  [ "$a" = busybox ] && continue
  ln -sf busybox "$tmp/bin/$a"
done
ln -s bin "$tmp/sbin"
mkdir -p "$tmp/usr"
ln -s ../bin "$tmp/usr/bin"
ln -s ../bin "$tmp/usr/sbin"
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$tmp/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n' > "$tmp/etc/group"
printf 'hosts: files dns\n' > "$tmp/etc/nsswitch.conf"
chmod 1777 "$tmp/tmp"
rm -rf "$dir"
mv "$tmp" "$dir"
