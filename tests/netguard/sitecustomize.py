"""Loaded at start-up by any Python whose path starts here (tests/test_network.py).

An audit hook refuses, and records in $SEEDQA_NETGUARD_LOG, every attempt to
resolve a non-local name or to connect or send to a non-loopback address.
Unix sockets and loopback stay open: the chat server and its clients use them.
"""

import errno
import ipaddress
import json
import os
import socket
import sys

_LOG = os.environ.get("SEEDQA_NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


def _record(event, target):
    with open(_LOG, "a") as log:
        log.write(json.dumps({"pid": os.getpid(), "event": event, "target": repr(target),
                              "argv": sys.argv[:3]}) + "\n")


def _is_local_host(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name that is not ours: resolving it would ask a DNS server
    return address.is_loopback or address.is_unspecified


def _guard(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) and address else address
            if not _is_local_host(host):
                _record(event, address)
                raise OSError(errno.ENETUNREACH, f"netguard: outbound connection to {address!r} refused")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        host = args[0]
        if not _is_local_host(host):
            _record(event, host)
            raise socket.gaierror(socket.EAI_NONAME, f"netguard: name lookup of {host!r} refused")


if _LOG:
    sys.addaudithook(_guard)
    with open(_LOG + ".started", "a") as started:
        started.write(f"{os.getpid()} {' '.join(sys.argv[:3])}\n")
