"""What the operating system enforces around a query process: no network, a memory ceiling, its death.

A query process enters a network namespace of its own as it starts (unshare(2): CLONE_NEWNET as root,
CLONE_NEWUSER | CLONE_NEWNET as an unprivileged user, which needs a single-threaded process: a freshly forked
one is). The namespace has only a loopback interface, and it is down, so every connect() fails with
ENETUNREACH: a SERVICE the guard missed reaches nobody, on any address, 127.0.0.1 included. Unix-domain
sockets and pipes inherited from the parent keep working, which is how jobs come and answers go.

The memory ceiling is RLIMIT_DATA (private writable memory, which is where both Python's and the engine's
allocations live): an allocation past it fails, Python raises MemoryError and the engine aborts, and either
way the query ends there without the machine noticing.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationUnavailable(OSError):
    """The kernel refused a network namespace (containers without user namespaces, seccomp profiles)."""


def leave_network() -> str:
    """Enter a new, empty network namespace; returns how ("netns" or "userns+netns")."""
    if os.geteuid() == 0 and _libc.unshare(CLONE_NEWNET) == 0:
        return "netns"
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        return "userns+netns"
    code = ctypes.get_errno()
    raise IsolationUnavailable(code, f"unshare(CLONE_NEWNET) failed: {os.strerror(code)}")


def network_reachable(port: int = 9) -> bool:
    """Whether this process can open a TCP connection at all (a refused connection counts as reachable)."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except ConnectionRefusedError:
        return True
    except OSError as exc:
        return exc.errno not in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL)


def die_with_parent() -> None:
    """Be killed when the process that started this one dies, however it dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def private_memory() -> int:
    """Bytes of private writable memory mapped now (VmData), what RLIMIT_DATA limits."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmData in /proc/self/status")


def limit_memory(headroom: int) -> int:
    """Allow this process `headroom` more bytes of private memory than it has now; returns the ceiling.

    Relative to now because a forked query process already maps the release it shares with its siblings."""
    ceiling = private_memory() + headroom
    resource.setrlimit(resource.RLIMIT_DATA, (ceiling, ceiling))
    return ceiling
