#!/bin/sh
# mmdebstrap customize hook for the realistic guest: $1 is the finished
# chroot, $2 the root file system's UUID. Runs after realistic_root/ was
# synced in.
set -eu
root="$1"
uuid="$2"

echo "UUID=$uuid / ext4 defaults,errors=remount-ro 0 1" > "$root/etc/fstab"
echo kiln-guest > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tkiln-guest\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
  > "$root/etc/hosts"
# qemu's user-mode DNS; no resolver service to wait for.
echo "nameserver 10.0.2.3" > "$root/etc/resolv.conf"

chroot "$root" systemctl enable systemd-networkd.service kiln-ready.service
# Periodic jobs and first-boot chores a throwaway guest does not need, all slow under TCG.
# (e2fsck is not installed, so the root check would only cost time.)
chroot "$root" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
  e2scrub_reap.service fstrim.timer dpkg-db-backup.timer systemd-pstore.service \
  getty@tty1.service systemd-tmpfiles-clean.timer systemd-fsck-root.service \
  modprobe@drm.service modprobe@dm_mod.service modprobe@fuse.service modprobe@loop.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-journald-audit.socket \
  systemd-update-utmp.service systemd-update-utmp-runlevel.service cloud-init-hotplugd.socket

# Every clone gets its own identity: host keys come from cloud-init, the
# machine id from systemd on first boot.
rm -f "$root"/etc/ssh/ssh_host_*
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

chroot "$root" update-initramfs -u -k all
# /usr is not newer than /etc and /var: skip ldconfig and friends on first boot.
touch "$root/etc/.updated" "$root/var/.updated"
