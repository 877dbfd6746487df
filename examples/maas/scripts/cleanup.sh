#!/bin/sh
# Makes the system a template rather than this build's machine, as MAAS
# deploys expect: cloud-init runs again from scratch on the deployed
# machine (new instance, new host keys, MAAS's users and network), systemd
# makes a new machine id, and apt's caches are gone.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get clean
cloud-init clean --logs
rm -f /etc/ssh/ssh_host_*
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id
rm -rf /var/lib/apt/lists/*
