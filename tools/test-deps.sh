#!/bin/bash
# Everything the tests need: .venv with the package and tox, and the
# MariaDB server binaries (the functional tests start their own private
# server in a temp dir; the system service is never used).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_PIP=tox bash tools/venv.sh
if ! command -v mariadb-install-db >/dev/null || \
        ! [ -x /usr/sbin/mariadbd ] && ! command -v mariadbd >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "need root to install mariadb-server (apt-get)" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server
fi
