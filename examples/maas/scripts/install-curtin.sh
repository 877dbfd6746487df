#!/bin/sh
# Installs the curtin hooks uploaded to /tmp/curtin where MAAS's installer
# (curtin) looks for them in a custom image: /curtin/<hook>, executable.
set -eu
install -d -m 0755 /curtin
install -m 0750 /tmp/curtin/* /curtin/
rm -rf /tmp/curtin
ls -l /curtin
