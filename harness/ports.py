"""Who holds a local TCP port, read from Linux's /proc the way `ss -ltnp` does, so that a program
refusing to start on a taken port can name the process to stop instead of failing in a child's log.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TCP_TABLES = (PROC / "net" / "tcp", PROC / "net" / "tcp6")
LISTEN_STATE = "0A"  # TCP_LISTEN in the kernel's hexadecimal state column


@dataclass(frozen=True)
class Holder:
    """A process listening on a port: its id and command line."""

    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command}"


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listener owns ``host:port``: binding it as a server would fails."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers bind: connections of a closed listener left in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def holders(port: int) -> list[Holder]:
    """The processes with a socket listening on ``port`` (any address); empty when none, or when
    the listener belongs to a process this user may not inspect."""
    inodes = _listening_inodes(port)
    if not inodes:
        return []
    found: list[Holder] = []
    for process in PROC.iterdir():
        if not process.name.isdigit():
            continue
        if any(inode in inodes for inode in _socket_inodes(process)):
            found.append(Holder(int(process.name), _command_line(process)))
    return sorted(found, key=lambda holder: holder.pid)


def describe(port: int) -> str:
    """One line per holder of ``port``, for a message to the user."""
    found = holders(port)
    if not found:
        return f"port {port} is taken by a process this user cannot see"
    return "\n".join(f"port {port} is held by {holder}" for holder in found)


def _listening_inodes(port: int) -> set[int]:
    inodes: set[int] = set()
    for table in TCP_TABLES:
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue  # no IPv6 in this kernel
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], int(fields[9])
            if state == LISTEN_STATE and int(local.rsplit(":", 1)[1], 16) == port and inode:
                inodes.add(inode)
    return inodes


def _socket_inodes(process: Path) -> set[int]:
    inodes: set[int] = set()
    # A process may end, or be another user's, while we look: it holds nothing we can see.
    with contextlib.suppress(OSError):
        for fd in (process / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _command_line(process: Path) -> str:
    try:
        raw = (process / "cmdline").read_bytes()
    except OSError:
        return "(ended)"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
