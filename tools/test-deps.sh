#!/bin/bash
# Everything the tests need: .venv with the package, tox and bindep, and
# the distribution packages bindep.txt lists for the test profile
# (MariaDB's server binaries: the functional tests start their own
# private server in a temp dir; the system service is never used).
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_PIP='tox bindep' bash tools/venv.sh
# bindep -b prints the missing packages, one a line: exit 0 when none is
# missing, 1 when some are, anything else is an error.
rc=0
missing=$(.venv/bin/bindep -b test) || rc=$?
if [ "$rc" -gt 1 ]; then
    echo "bindep failed ($rc): see bindep.txt" >&2
    exit 1
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "need root to install (apt-get):" $missing >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    # one package per word
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
