#!/bin/sh
# The MAAS "tgz" image: the root file system as a gzipped tarball, made in
# the guest from its running root. --one-file-system keeps /proc, /sys, /dev
# and /run out (their mount points stay, empty, as a root needs them);
# /tmp, /var/tmp and caches are left out in case they are not separate
# mounts. Numeric owners, so the target's ids are the image's, whatever
# the unpacking system's names. The build user's authorized_keys stays out
# of the image (the build still needs it until shutdown).
#   TARBALL     where to write the tarball (in /tmp, which it excludes)
#   GZIP_LEVEL  gzip level 1-9 (1 is several times faster under emulation)
#   BUILD_USER  the user the build logged in as
set -eu
: "${TARBALL:?}" "${GZIP_LEVEL:=6}" "${BUILD_USER:?}"
home=$(getent passwd "$BUILD_USER" | cut -d: -f6)
cd /
set +e
tar --create --one-file-system --numeric-owner --sparse \
  --xattrs --xattrs-include='*' --acls \
  --exclude="./tmp/*" --exclude="./var/tmp/*" --exclude="./run/*" \
  --exclude="./proc/*" --exclude="./sys/*" --exclude="./dev/*" \
  --exclude="./var/cache/apt/*" --exclude="./var/lib/apt/lists/*" \
  --exclude="./lost+found/*" \
  --exclude=".${home}/.ssh/authorized_keys" \
  --use-compress-program="gzip -$GZIP_LEVEL" --file="$TARBALL" .
status=$?
set -e
# tar exits 1 when a file changed while it was read (logs, journals): the
# archive is still whole; 2 and up is a real failure.
if [ "$status" -gt 1 ]; then
  echo "tar failed with status $status" >&2
  exit "$status"
fi
ls -l "$TARBALL"
