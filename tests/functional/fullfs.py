#    Copyright 2026 gpupassthrough-osc developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Run a command against files on a real, full filesystem.

A 64 KiB tmpfs is mounted in a private mount namespace (``unshare
--mount``; as a non-root user with ``--user --map-root-user`` too), so
nothing is left mounted whatever happens to the test. Inside it this file
runs as a script: it writes the given files, fills the filesystem to the
last byte, runs the command, empties the filler and reports the command's
outcome and every file left, byte for byte, as JSON on stdout.
"""

import errno
import json
import os
import subprocess
import sys

FILLER = '.filler-of-the-test'


class CannotMount(Exception):
    """Neither root nor user namespaces: no way to mount a tmpfs."""


def run(mountpoint, files, argv, env, free_pages=0, size='64k',
        timeout=120):
    """{'rc', 'stdout', 'stderr', 'files': {name: text}} of ``argv``.

    ``files`` ({name: text}) are written on the tmpfs mounted at
    ``mountpoint`` (which hides what is there) before it is filled;
    ``free_pages`` of 4 KiB are left free.
    """
    namespace = ['unshare', '--mount']
    if os.geteuid() != 0:
        namespace += ['--user', '--map-root-user']
    spec = json.dumps({'files': files, 'argv': argv, 'env': env,
                       'timeout': timeout, 'free_pages': free_pages})
    proc = subprocess.run(
        [*namespace, 'sh', '-c',
         f'mount -t tmpfs -o size={size} tmpfs "$0" && exec "$@"',
         mountpoint, sys.executable, os.path.abspath(__file__), mountpoint],
        input=spec, capture_output=True, text=True, timeout=timeout + 30)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise CannotMount(
            f'cannot mount a {size} tmpfs at {mountpoint} with '
            f'{" ".join(namespace)} (exit {proc.returncode}): '
            f'{proc.stderr.strip()}; run as root, or allow unprivileged '
            f'user namespaces (kernel.unprivileged_userns_clone=1)') from None


def _fill(directory, free_pages):
    """Write until the kernel says ENOSPC, then give back some pages.

    tmpfs counts whole pages: once a page-sized write fails, no new page
    is left for any file.
    """
    with open(os.path.join(directory, FILLER), 'wb', buffering=0) as f:
        while True:
            try:
                f.write(b'\0' * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        f.truncate(max(0, f.tell() - 4096 * free_pages))


def _main(mountpoint):
    spec = json.load(sys.stdin)
    for name, text in spec['files'].items():
        with open(os.path.join(mountpoint, name), 'w',
                  encoding='latin-1') as f:
            f.write(text)
    _fill(mountpoint, spec['free_pages'])
    proc = subprocess.run(spec['argv'], capture_output=True, text=True,
                          env=spec['env'], timeout=spec['timeout'])
    os.unlink(os.path.join(mountpoint, FILLER))
    left = {}
    for name in sorted(os.listdir(mountpoint)):
        # latin-1: any byte round-trips, so "byte for byte" holds in JSON
        with open(os.path.join(mountpoint, name), encoding='latin-1') as f:
            left[name] = f.read()
    json.dump({'rc': proc.returncode, 'stdout': proc.stdout,
               'stderr': proc.stderr, 'files': left}, sys.stdout)


if __name__ == '__main__':
    _main(sys.argv[1])
