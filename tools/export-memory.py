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

"""Peak memory of the offline-export commands at growing export sizes.

Writes a pci_devices export of N rows in each of the three formats an
operator sends (``mysql -B`` tab-separated, ``mysql ... \\G`` vertical,
JSON), runs the real ``openstack gpu device list --pci-devices FILE -f
value`` and ``gpu device audit --pci-devices FILE`` on each, and reads
the child's peak RSS from os.wait4(). The commands stream the export, so
the peak at the largest size must stay within BOUND of the smallest one:

    python tools/export-memory.py                 # 10k and 1M rows
    python tools/export-memory.py --sizes 10000 200000 --formats tsv

Exit status 1 when a bound is broken. Run it with the functional env's
python (its ``openstack``): /work/main/.tox/functional/bin/python.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
# nova's pci_devices columns, as `select *` prints them
COLUMNS = ('created_at', 'updated_at', 'deleted_at', 'deleted', 'id',
           'compute_node_id', 'address', 'product_id', 'vendor_id',
           'dev_type', 'dev_id', 'label', 'status', 'extra_info',
           'instance_uuid', 'request_id', 'numa_node', 'parent_addr', 'uuid')
FORMATS = ('tsv', 'vertical', 'json')
COMMANDS = {'device list': ('gpu', 'device', 'list', '-f', 'value'),
            'device audit': ('gpu', 'device', 'audit', '-f', 'value')}
# peak RSS at the big size <= FACTOR * peak at the small one + SLACK_MB:
# flat memory with room for allocator noise, not for per-row growth
FACTOR = 1.5
SLACK_MB = 20


def _row(i: int) -> dict:
    node, slot = divmod(i, 64)
    address = f'0000:{slot // 8 + 0x17:02x}:{slot % 8:02x}.0'
    used = i % 3 == 0
    return {
        'created_at': '2026-11-01 12:00:00', 'updated_at': 'NULL',
        'deleted_at': 'NULL', 'deleted': '0', 'id': str(i + 1),
        'compute_node_id': str(node + 1), 'address': address,
        'product_id': '2235', 'vendor_id': '10de', 'dev_type': 'type-PF',
        'dev_id': 'pci_' + address.replace(':', '_').replace('.', '_'),
        'label': 'label_10de_2235',
        'status': 'allocated' if used else 'available',
        'extra_info': '{}',
        'instance_uuid': f'00000000-0000-0000-0000-{i:012d}' if used
        else 'NULL', 'request_id': 'NULL', 'numa_node': str(slot % 2),
        'parent_addr': 'NULL',
        'uuid': f'11111111-0000-0000-0000-{i:012d}'}


def write_export(path: str, rows: int, fmt: str) -> None:
    with open(path, 'w') as f:
        if fmt == 'tsv':
            f.write('\t'.join(COLUMNS) + '\n')
            for i in range(rows):
                row = _row(i)
                f.write('\t'.join(row[c] for c in COLUMNS) + '\n')
        elif fmt == 'vertical':
            f.write("MariaDB [nova]> select * from pci_devices\\G\n")
            for i in range(rows):
                row = _row(i)
                f.write(f'{"*" * 27} {i + 1}. row {"*" * 27}\n')
                f.write(''.join(f'{c:>15}: {row[c]}\n' for c in COLUMNS))
            f.write(f'{rows} rows in set (1.234 sec)\n')
        else:
            f.write('[')
            for i in range(rows):
                row = {c: (None if v == 'NULL' else v)
                       for c, v in _row(i).items()}
                f.write((',\n' if i else '\n') + json.dumps(row))
            f.write('\n]\n')


def measure(args: tuple, path: str) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, lines printed) of one command."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'GPUPASSTHROUGH_'))}
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([OPENSTACK, *args, '--pci-devices', path],
                                stdout=out, stderr=subprocess.PIPE, env=env)
        err = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            raise RuntimeError(f'{" ".join(args)} {path}: exit {code}: '
                               f'{err.decode()[-500:]}')
        out.seek(0)
        lines = sum(1 for _ in out)
    # ru_maxrss is in KiB on Linux
    return usage.ru_maxrss / 1024, elapsed, lines


def run(sizes: list, formats: list, workdir: str) -> list:
    """[(command, format, size, rss_mb, seconds, lines)]."""
    results = []
    for fmt in formats:
        for size in sizes:
            path = os.path.join(workdir, f'pci_devices-{fmt}-{size}')
            write_export(path, size, fmt)
            for name, args in COMMANDS.items():
                rss, seconds, lines = measure(args, path)
                results.append((name, fmt, size, rss, seconds, lines))
            os.unlink(path)
    return results


def report(results: list) -> str:
    lines = [f'{"command":14} {"format":9} {"rows":>8} {"peak RSS":>9} '
             f'{"seconds":>8}']
    for name, fmt, size, rss, seconds, _lines in results:
        lines.append(f'{name:14} {fmt:9} {size:>8} {rss:>7.0f} MB '
                     f'{seconds:>8.1f}')
    return '\n'.join(lines)


def broken_bounds(results: list) -> list:
    """Lines naming each (command, format) whose peak grew with size."""
    broken = []
    for name in COMMANDS:
        for fmt in {r[1] for r in results}:
            runs = sorted((r for r in results if r[:2] == (name, fmt)),
                          key=lambda r: r[2])
            small, big = runs[0], runs[-1]
            bound = FACTOR * small[3] + SLACK_MB
            if big[3] > bound:
                broken.append(
                    f'{name} ({fmt}): {big[3]:.0f} MB at {big[2]} rows > '
                    f'{bound:.0f} MB ({FACTOR}x {small[3]:.0f} MB at '
                    f'{small[2]} rows + {SLACK_MB} MB)')
    return broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+',
                        default=[10000, 1000000])
    parser.add_argument('--formats', nargs='+', choices=FORMATS,
                        default=list(FORMATS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        results = run(args.sizes, args.formats, workdir)
    print(report(results))
    broken = broken_bounds(results)
    for line in broken:
        print('NOT FLAT:', line)
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
