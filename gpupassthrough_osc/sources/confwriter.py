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

"""Write configuration files safely: nova.conf aliases, host files.

Line-based on purpose: oslo.config cannot write, and rewriting the file
through an INI library would lose comments, order and repeated keys. Only
the ``alias =`` lines of the named alias change; everything else stays
byte for byte. The new file replaces the old one atomically (a temp file
in the same directory, fsync, rename), after a timestamped backup copy.

Two writers of the same directory at once: the second is refused (a lock
on the directory, held from the read to the rename), so neither edit is
lost. SIGINT, SIGTERM and SIGHUP wait while the backup, the new file and
the rename are made: a signal leaves the original file untouched or the
complete new one with its backup, never a half-written file or a stray
temp file. A failed write (no space, read-only) removes what it made.
"""

import contextlib
import datetime
import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
from typing import Callable
from typing import Iterator

from gpupassthrough_osc import exceptions

# delivered once the file is complete (or untouched), not in between
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}

_SECTION = re.compile(r'^\s*\[([^\]]+)\]\s*$')
_ALIAS = re.compile(r'^\s*alias\s*=\s*(.*?)\s*$')


class ConfWriteError(exceptions.SourceError):
    pass


def _alias_name(value: str) -> str | None:
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data.get('name') if isinstance(data, dict) else None


def _same(value: str, wanted: str) -> bool:
    try:
        return json.loads(value) == json.loads(wanted)
    except ValueError:
        return False


def plan(lines: list[str], name: str, values: list[str],
         replace: bool = False) -> tuple[list[str], bool]:
    """New lines with ``values`` as the alias lines of ``name``.

    Returns (new_lines, changed). Raises :class:`ConfWriteError` when a
    different definition of ``name`` exists and ``replace`` is false.
    """
    section = None
    pci_end = None          # index after the last line of [pci]
    existing = []           # indexes of alias lines of this name
    current = []            # and their values
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match:
            section = match.group(1).strip()
            continue
        if section != 'pci':
            continue
        pci_end = index + 1
        alias = _ALIAS.match(line)
        if alias and _alias_name(alias.group(1)) == name:
            existing.append(index)
            current.append(alias.group(1))
    if len(current) == len(values) and all(
            _same(c, v) for c, v in zip(current, values)):
        return lines, False
    if current and not replace:
        raise ConfWriteError(
            f"alias {name} is already defined differently "
            f"({'; '.join(current)}): pass --replace to overwrite it")
    new = [f'alias = {v}\n' for v in values]
    if existing:
        first = existing[0]
        kept = [line for i, line in enumerate(lines) if i not in existing]
        return kept[:first] + new + kept[first:], True
    if pci_end is not None:
        # after the last non-blank line of [pci], keeping trailing blanks
        while pci_end > 0 and not lines[pci_end - 1].strip():
            pci_end -= 1
        return lines[:pci_end] + new + lines[pci_end:], True
    tail = list(lines)
    if tail and not tail[-1].endswith('\n'):
        tail[-1] += '\n'
    if tail and tail[-1].strip():
        tail.append('\n')
    return tail + ['[pci]\n'] + new, True


@contextlib.contextmanager
def _lock(path: str) -> Iterator[None]:
    """One writer per directory, from the read to the rename.

    flock on the directory itself: the file is replaced by a rename, so a
    lock on it would be on the old inode, and a lock file would be a
    stray file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ConfWriteError(f'{path}: {exc.strerror}')
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfWriteError(
                f'{path}: another writer is editing files in {directory} '
                f'right now; nothing was changed, run the command again')
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP wait until the block is done."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding='utf-8') as f:
            return f.readlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfWriteError(f'{path}: {exc.strerror}')


def write_alias(path: str, name: str, values: list[str],
                replace: bool = False,
                now: datetime.datetime | None = None
                ) -> tuple[bool, str | None]:
    """Put the alias lines into ``path``.

    Returns (changed, backup): ``changed`` is False when the file already
    said exactly this (nothing is written); ``backup`` is the copy of the
    previous file, or None when there was no file.
    """
    with _lock(path):
        new_lines, changed = plan(_read_lines(path), name, values, replace)
        if not changed:
            return False, None
        return True, _replace_file(path, ''.join(new_lines), now)


def edit_file(path: str, edit: Callable[[str], str],
              now: datetime.datetime | None = None) -> str | None:
    """Replace ``path``'s text with ``edit(text)``; returns the backup."""
    with _lock(path):
        return _replace_file(path, edit(''.join(_read_lines(path))), now)


def replace_file(path: str, text: str,
                 now: datetime.datetime | None = None) -> str | None:
    """Back up ``path`` (if it exists) and replace it atomically.

    Returns the backup's path, or None for a new file.
    """
    with _lock(path):
        return _replace_file(path, text, now)


def _replace_file(path: str, text: str,
                  now: datetime.datetime | None = None) -> str | None:
    with _signals_held():
        backup = None
        try:
            if os.path.exists(path):
                stamp = (now or datetime.datetime.now()).strftime(
                    '%Y%m%dT%H%M%S')
                backup = f'{path}.{stamp}.bak'
                shutil.copy2(path, backup)
            _atomic_write(path, text)
        except BaseException as exc:
            # the original is untouched: a backup of it is clutter, and a
            # partial one (no space) is worse
            if backup and os.path.exists(backup):
                os.unlink(backup)
            if isinstance(exc, OSError):
                raise ConfWriteError(f'{path}: {exc.strerror}')
            raise
        return backup


def _atomic_write(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    try:
        fd, tmp = tempfile.mkstemp(prefix='.gpupassthrough.', dir=directory)
    except OSError as exc:
        raise ConfWriteError(f'{path}: cannot write in {directory}: '
                             f'{exc.strerror}')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        # keep the old file's mode and owner (nova.conf is often 0640
        # root:nova); a new file gets 0644
        os.chmod(tmp, st.st_mode & 0o7777 if st else 0o644)
        if st is not None:
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                pass
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ConfWriteError(f'{path}: {exc.strerror}')
        raise
