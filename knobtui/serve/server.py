"""`knobtui serve`: the doors (SSH, the browser) around one hub, started and stopped together."""

from __future__ import annotations

import asyncio
import resource
import signal

from .gates import clean
from .hub import PRIVATE_PREFIX, Hub, ServeOptions, log
from .join import Door, join_info, join_lines
from ..presenter.relay import remove_stale


def _raise_descriptor_limit() -> int:
    """Use the hard limit on open files: each visitor needs a few (connection, pty, relay)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def _quiet_exceptions(hub: Hub) -> None:
    """asyncio's own errors (EMFILE on accept, a client's broken handshake) become one rate-limited line,
    never a traceback per event: at the descriptor limit the default handler wrote 147 MB in 30 s."""
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exc = context.get("exception")
        what = str(context.get("message") or "error")
        key = f"{what}:{type(exc).__name__ if exc else ''}"
        hub.rare(key, f"{clean(what, 120)}" + (f": {clean(exc, 200)}" if exc else "") + "; still serving")
    asyncio.get_running_loop().set_exception_handler(handler)


async def serve(options: ServeOptions) -> int:
    """Run the server until SIGINT or SIGTERM; then end every child, reap them all, and return 0.

    Raises KeyFileError for an unusable key file and OSError when it cannot listen; either way nothing
    is left behind (the private folder, the relay socket and the spawner are removed on every path).
    """
    remove_stale((PRIVATE_PREFIX, "knobtui-relay-"))
    hub = Hub(options)
    loop = asyncio.get_running_loop()
    ssh_door = None
    web_door = None
    idle: asyncio.Future[None] | None = None
    try:
        _quiet_exceptions(hub)
        limit = _raise_descriptor_limit()
        if hub.relay is not None:
            await hub.relay.start()
            log(f"presenter mode: followers get the presenter's state through the relay {hub.relay.path}")
        bus = hub.join_bus()
        if bus is not None and not await bus.start(wait=10.0):
            log("bus: Redis is not reachable yet; serving this node's followers and retrying")
        listening: list[str] = []
        doors: list[Door] = []
        if options.web_port is not None:
            from .web import WebDoor
            web_door = WebDoor(hub)  # first: a certificate that cannot be used stops the start at once
        if options.ssh:
            from .ssh import open_ssh_door
            ssh_door, line, door = await open_ssh_door(hub)
            listening.append(line)
            doors.append(door)
        if web_door is not None:
            line, door = await web_door.open()
            listening.append(line)
            doors.append(door)
        hub.join = join_info(options.host, doors, options.web_url)
        await hub.start_spawner()
        log(f"limits: {options.max_sessions} simulators, {options.max_per_address} per address, "
            f"{options.max_seats} followers watching, {options.max_seats_per_address} per address, "
            f"{options.rate_limit} connections a minute per address, idle {options.idle_timeout:g} s, "
            f"login {options.login_timeout:g} s, {limit} open files"
            + ("" if hub.spawner else "; simulators start cold"))
        for line in listening + join_lines(hub.join):
            log(line)
        if options.web_insecure_presenter and options.presenter_password and web_door is not None \
                and web_door.tls is None:
            log("warning: --web-insecure-presenter: the presenter password may cross the network in clear "
                "text (anyone on the room's network can read it); use --web-cert and --web-key, or SSH")
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        idle = asyncio.ensure_future(hub.watch_idle())
        await stop.wait()
        log("stopping: no new connections; ending every simulator")
    finally:
        if ssh_door is not None:
            ssh_door.close()
        if web_door is not None:
            await web_door.stop_listening()
        if idle is not None:
            idle.cancel()
        await hub.end_all()
        if ssh_door is not None:
            await ssh_door.wait_closed()
        if web_door is not None:
            await web_door.close()
        if hub.bus is not None:
            await hub.bus.close()
        if hub.relay is not None:
            await hub.relay.close()
        if hub.spawner is not None:
            await hub.spawner.close()
        hub.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log("stopped")
    return 0
