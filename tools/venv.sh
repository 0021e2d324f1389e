#!/bin/bash
# Make .venv with gpupassthrough-osc installed, on a fresh Debian/Ubuntu
# machine too: Debian's python refuses system-wide pip installs (PEP 668),
# so everything goes into a virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "need root to install $* (apt-get); install it and retry" >&2
        exit 1
    fi
    if [ -z "${APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        export APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

command -v git >/dev/null || apt_install git
command -v python3 >/dev/null || apt_install python3
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q . ${EXTRA_PIP:-}
