"""Writing a file so that a reader sees the old one or the new one, never half of it: a temporary file in
the target's directory, flushed and synced, renamed over the target, the rename synced with the
directory. Used for repaired policies (`validate --fix`), collected snapshots and an organisation
audit's answers. Reading user files is `kmssmt.policy.reading.read_text_file`."""

from __future__ import annotations

import os
import stat
import tempfile


def _default_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _sync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: str, text: str) -> None:
    """Write `text` (UTF-8, line breaks as they are) to `path`, creating its directory. An existing file
    keeps its permissions (a new one gets the umask's); a symbolic link keeps pointing at the file it
    names, which is replaced."""
    target = os.path.realpath(path)
    directory = os.path.dirname(target) or "."
    os.makedirs(directory, exist_ok=True)
    mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else _default_mode()
    fd, temporary = tempfile.mkstemp(prefix=".kmssmt-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _sync_directory(directory)
