"""Where a room comes in: the addresses learners can reach, and the join lines `serve` prints for them.

A server bound to a wildcard (0.0.0.0, ::, or every address) is reached at the addresses of the
machine's interfaces, never at the wildcard itself; one bound to an address is reached there. Loopback
and link-local addresses are left out of a wildcard's list: nobody else in the room can type them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from ..wire import JoinInfo

WILDCARDS_V4 = ("0.0.0.0",)
WILDCARDS_V6 = ("::",)


def interface_addresses() -> list[str]:
    """Every address of every interface that is up, in the order the system lists them."""
    import psutil  # only when serving

    stats = psutil.net_if_stats()
    out: list[str] = []
    for name, addresses in psutil.net_if_addrs().items():
        if name in stats and not stats[name].isup:
            continue
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                out.append(address.address.split("%")[0])
    return out


def reachable_hosts(host: str, addresses: list[str] | None = None) -> list[str]:
    """The addresses a learner types for a server bound to `host` (IPv4 first); for a wildcard, the
    interfaces' addresses less loopback and link-local (when there are none, the loopback address, so
    the machine itself can still come in)."""
    if host not in ("", *WILDCARDS_V4, *WILDCARDS_V6):
        return [host]
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for text in interface_addresses() if addresses is None else addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.is_loopback or address.is_link_local or address.is_unspecified or address in found:
            continue
        if (host in WILDCARDS_V4 and address.version != 4) or (host in WILDCARDS_V6 and address.version != 6):
            continue
        found.append(address)
    found.sort(key=lambda a: a.version)
    if not found:
        return ["::1" if host in WILDCARDS_V6 else "127.0.0.1"]
    return [str(a) for a in found]


def url_host(host: str) -> str:
    """A host as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def only_this_machine(host: str) -> bool:
    """Whether `host` is a loopback address: nobody else can come in."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class Door:
    """One listening door, as the join lines need it."""

    kind: str  # "ssh" or "web"
    port: int
    secure: bool = False  # web: https
    fingerprint: str = ""  # ssh: the host key's SHA256 fingerprint


def join_info(host: str, doors: list[Door], web_url: str | None = None,
              addresses: list[str] | None = None) -> JoinInfo:
    """How learners come in: an SSH command and a browser URL per reachable address (or the URL given
    with --web-url, when a proxy stands in front)."""
    hosts = reachable_hosts(host, addresses)
    ssh = next((d for d in doors if d.kind == "ssh"), None)
    web = next((d for d in doors if d.kind == "web"), None)
    commands = tuple(f"ssh -p {ssh.port} yourname@{h}" for h in hosts) if ssh else ()
    if web_url:
        urls: tuple[str, ...] = (web_url,)
    elif web:
        scheme = "https" if web.secure else "http"
        urls = tuple(f"{scheme}://{url_host(h)}:{web.port}/" for h in hosts)
    else:
        urls = ()
    return JoinInfo(commands, urls, ssh.fingerprint if ssh else "", local=all(only_this_machine(h) for h in hosts))


def join_lines(info: JoinInfo) -> list[str]:
    """The lines `serve` prints at start: one per way in, each a thing a learner can type."""
    lines = [f"join by SSH: {command}  (host key {info.fingerprint})" for command in info.ssh]
    lines += [f"join in a browser: {url}" for url in info.urls]
    if info.local:
        lines.append("only this machine can come in; --host 0.0.0.0 lets the room in")
    return lines
