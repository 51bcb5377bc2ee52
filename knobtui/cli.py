"""The command line: `knobtui` opens the simulator, `knobtui run` learns headless, `knobtui serve` serves it over SSH.

Textual is imported only on the paths that draw a screen, so `knobtui run` starts fast.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from .learning.lesson import Lesson
    from .tui.keys import Key
from pathlib import Path

from .learning import (DEFAULT_PRESET, DEFAULT_TOLERANCE, KNOB_NAMES, PRESETS, KnobError, Session, Start,
                       check_method, get_preset, knob_name, parse_number, parse_tolerance, stability)
from .learning.narrator import book_shape_note, divergence_note
from .learning.presets import book_print_for
from .records import FORMATS, Span, write_records

UNTIL_CONVERGED_LIMIT = 1_000_000
MAX_STEPS = 10_000_000


class UsageError(Exception):
    """A bad command line: exit 2 with this one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2, never a usage dump or traceback."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _add_knob_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", metavar="NAME",
                   help=f"a scenario from the book: {', '.join(PRESETS)} (default {DEFAULT_PRESET})")
    p.add_argument("--method", metavar="METHOD", help="hot-cold or gradient (default: the preset's)")
    p.add_argument("--weight", metavar="W", help="the starting weight")
    p.add_argument("--input", metavar="X", help="the input")
    p.add_argument("--goal", metavar="Y", help="the goal prediction")
    p.add_argument("--alpha", metavar="A", help="gradient descent's alpha")
    p.add_argument("--step-amount", dest="step_amount", metavar="S", help="hot and cold's step (> 0)")


def _add_screen_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--theme", metavar="NAME", help="colour theme (t switches; the last one chosen is remembered)")
    p.add_argument("--ascii", action="store_true",
                   help="draw with plain ASCII (automatic when the locale is not UTF-8 or TERM=linux)")
    p.add_argument("--hide", metavar="KNOBS", default="",
                   help="comma-separated knobs a lesson does not need yet, e.g. input,alpha")
    p.add_argument("--lesson", metavar="FILE",
                   help="run a lesson script (a .toml file, or a shipped one: chapter4); n and N step through it")
    p.add_argument("--keys", metavar="FILE",
                   help="a keymap: key ids and the keys for them (default: ~/.config/knobtui/keys.toml if it exists)")


def build_parser() -> _Parser:
    parser = _Parser(prog="knobtui",
                     description="A terminal simulator of how one weight learns (Grokking Deep Learning, chapter 4).")
    _add_knob_options(parser)
    _add_screen_options(parser)
    parser.add_argument("--list-themes", action="store_true", help="list the themes and exit")
    sub = parser.add_subparsers(dest="command", metavar="{run,serve}", parser_class=_Parser)
    run = sub.add_parser("run", help="learn without a screen and print the iterations",
                         description="Learn without a screen; print one record per iteration.")
    _add_knob_options(run)
    run.add_argument("--steps", metavar="N",
                     help="iterations to take (default: as many as the book prints for the preset); "
                          "with --until-converged, the most to take (default 1000000)")
    run.add_argument("--until-converged", action="store_true",
                     help="stop at the first iteration whose error is within the tolerance, unless the rule "
                          "diverges and only passes through it (or when stuck, oscillating or overflowing)")
    run.add_argument("--tolerance", metavar="T", help=f"convergence tolerance (default {DEFAULT_TOLERANCE})")
    run.add_argument("--format", metavar="FORMAT", default="text", help=f"{', '.join(FORMATS)} (default text)")
    serve = sub.add_parser("serve", help="give every SSH (and browser) visitor their own simulator",
                           description="An SSH server: `ssh -p 2222 yourname@host` gets a simulator of its own; "
                                       "no account, no shell. With --web-port, a browser gets one too.")
    _add_knob_options(serve)
    _add_screen_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", default="2222", help="port to listen on (default 2222; 0 picks a free one)")
    serve.add_argument("--web-port", metavar="PORT",
                       help="also serve the simulator to web browsers on this port (http://HOST:PORT/; 0 picks one)")
    serve.add_argument("--web-cert", metavar="FILE",
                       help="serve the browser door over HTTPS with this certificate (PEM, with its chain); "
                            "needs --web-key")
    serve.add_argument("--web-key", metavar="FILE", help="the private key of --web-cert (PEM, no passphrase)")
    serve.add_argument("--web-proxy", metavar="ADDRESS", action="append", default=[],
                       help="a reverse proxy in front of the browser door (an address or network; repeat for "
                            "more): its X-Forwarded-For/-Proto/-Host headers are believed, nobody else's")
    serve.add_argument("--web-origin", metavar="ORIGIN", action="append", default=[],
                       help="another origin whose pages may open the door's websocket, e.g. "
                            "https://knobtui.school.example (default: the page's own only)")
    serve.add_argument("--web-url", metavar="URL",
                       help="the address learners type when a proxy stands in front "
                            "(printed and shown on the join screen instead of this machine's)")
    serve.add_argument("--web-insecure-presenter", action="store_true",
                       help="let the presenter log in at /presenter over plain HTTP from another machine "
                            "(the password then crosses the network in clear text)")
    serve.add_argument("--no-ssh", action="store_true", help="no SSH listener: the browser door alone (needs --web-port)")
    serve.add_argument("--host-key", metavar="PATH",
                       help="the server's ed25519 host key, created on first start (default: in the user's data dir)")
    serve.add_argument("--authorized-keys", metavar="FILE", help="admit only these public keys (default: anyone)")
    serve.add_argument("--max-sessions", default="300", metavar="N",
                       help="simulators at once: the presenter's, visitors' own, followers' after d (default 300)")
    serve.add_argument("--max-per-address", default="40", metavar="N",
                       help="simulators from one address (default 40; a follower in a shared view runs none)")
    serve.add_argument("--max-seats", default="600", metavar="N",
                       help="followers watching the presenter's shared views at once (default 600)")
    serve.add_argument("--max-seats-per-address", default="400", metavar="N",
                       help="followers from one address, e.g. a class behind one NAT (default 400)")
    serve.add_argument("--idle-timeout", default="900", metavar="S",
                       help="close a session with no key pressed and no screen change this long (default 900 s)")
    serve.add_argument("--login-timeout", default="30", metavar="S",
                       help="time to log in and open a session (default 30 s)")
    serve.add_argument("--rate-limit", default="600", metavar="N",
                       help="new connections per address per minute (default 600: a class arriving at once)")
    serve.add_argument("--presenter-key", metavar="FILE",
                       help="public keys that log in as the presenter, whom everyone else follows "
                            "(or set the presenter's password in KNOBTUI_PRESENTER_PASSWORD)")
    serve.add_argument("--cold-start", action="store_true",
                       help="start every simulator as a fresh Python instead of forking a warm one "
                            "(slower arrivals; for comparison and debugging)")
    serve.add_argument("--private-followers", action="store_true",
                       help="give every follower a simulator of its own instead of shared views "
                            "(uses far more CPU and memory; for comparison)")
    serve.add_argument("--bus", metavar="URL",
                       help="serve one room with other nodes through Redis: redis://[:PASSWORD@]HOST:PORT/DB or "
                            "rediss:// (TLS); default: $KNOBTUI_BUS, else this node alone")
    serve.add_argument("--room", default="lecture", metavar="NAME",
                       help="the room on the bus: nodes with the same bus and room serve the same lecture "
                            "(default lecture)")
    serve.add_argument("--presenter-user", default="teacher", metavar="NAME",
                       help="the user name the presenter logs in with (default teacher); "
                            "every other name follows with no password")
    return parser


def resolve_start(args: argparse.Namespace) -> Start:
    """The preset, then explicit knob options over it; raises UsageError naming a bad value."""
    name = DEFAULT_PRESET if args.preset is None else args.preset
    try:
        preset = get_preset(name)
        method = check_method(preset.method if args.method is None else args.method)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    changes: dict[str, float] = {}
    for knob in KNOB_NAMES:
        text = getattr(args, knob)
        if text is not None:
            try:
                changes[knob] = parse_number(knob, text)
            except KnobError as exc:
                raise UsageError(f"{exc} (--{knob.replace('_', '-')})") from None
    return Start(preset.name, preset.knobs.with_values(**changes), method)


def _lesson(name: str | None) -> Lesson | None:
    """The lesson to run, fully checked before any screen opens; UsageError with file and line."""
    if name is None:
        return None
    from .learning.lesson import LessonError
    from .lessons import load_lesson
    try:
        return load_lesson(name)
    except LessonError as exc:
        raise UsageError(str(exc)) from None


def parse_hide(text: str) -> frozenset[str]:
    """`input,alpha` -> the knob names to hide; UsageError names an unknown one."""
    names = set()
    for part in text.split(","):
        name = knob_name(part)
        if not name:
            continue
        if name not in KNOB_NAMES:
            raise UsageError(f"hide: {part.strip()!r} is not a knob ({', '.join(KNOB_NAMES)})")
        names.add(name)
    if len(names) == len(KNOB_NAMES):
        raise UsageError("hide: at least one knob must stay on screen")
    return frozenset(names)


def _whole(name: str, text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a whole number") from None
    if value < 0:
        raise UsageError(f"{name}: {value} must be 0 or more")
    if value > MAX_STEPS:
        raise UsageError(f"{name}: {value} is more than one run takes ({MAX_STEPS}, about 80 MB of history)")
    return value


def _tolerance(text: str | None) -> float:
    if text is None:
        return DEFAULT_TOLERANCE
    try:
        return parse_tolerance(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_run(args: argparse.Namespace) -> int:
    start = resolve_start(args)
    if args.format not in FORMATS:
        raise UsageError(f"format: {args.format!r} is not one of {', '.join(FORMATS)}")
    tolerance = _tolerance(args.tolerance)
    steps = _whole("steps", args.steps) if args.steps is not None else None
    session = Session(start.knobs, start.method, tolerance)
    if args.until_converged:
        total = UNTIL_CONVERGED_LIMIT if steps is None else steps
    else:
        total = get_preset(start.preset).book_steps if steps is None else steps
    out = sys.stdout
    preset = get_preset(start.preset)
    if args.format == "book" and book_print_for(preset, start.method) != preset.book_print:
        print(f"knobtui run: {book_shape_note(preset.name, preset.method, start.method)}", file=sys.stderr)
    # Ctrl-C stops the run between chunks, so every record written is whole: the handler only raises a
    # flag (a KeyboardInterrupt inside a write to a full pipe could cut a line). A second Ctrl-C, while
    # the last chunk is still being written, interrupts at once.
    stop = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        write_records(args.format, session, out, book_print=book_print_for(preset, start.method),
                      taken=_advancing(session, total, args.until_converged, stop))
        out.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGINT, previous)
    if stop.is_set():
        try:
            out.flush()
        except OSError:
            pass
        print(f"knobtui run: interrupted after {session.iteration} iterations", file=sys.stderr)
        return 130
    for line in run_notes(session):
        print(f"knobtui run: {line}", file=sys.stderr)
    return 0


STREAM_CHUNK = 4096
"""Iterations taken between writes: records appear as the run goes, 10M steps or not."""


def _advancing(session: Session, total: int, until_converged: bool, stop: threading.Event) -> Iterator[Span]:
    """Take up to `total` iterations a chunk at a time, yielding the span of iterations each chunk took
    as it is taken, until `stop` is set."""
    done = 0
    while done < total and not stop.is_set():
        chunk = min(STREAM_CHUNK, total - done)
        before = session.iteration
        took = session.fast_forward(chunk) if until_converged else session.run(chunk)
        if session.iteration > before:
            yield before + 1, session.iteration
        done += took.steps
        if took.stop != "limit" or took.steps < chunk:
            return


def _positive(name: str, text: str, whole: bool = True) -> float:
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a {'whole ' if whole else ''}number") from None
    if not (0 < value < float("inf")):
        raise UsageError(f"{name}: {text!r} must be more than 0")
    return value


def _key_file(option: str, text: str | None) -> Path | None:
    """An OpenSSH authorized_keys file, checked now so a typo is an error, not a locked door."""
    if text is None:
        return None
    from .serve.keys import KeyFileError, read_authorized_keys  # asyncssh only when serving
    try:
        read_authorized_keys(Path(text))
    except KeyFileError as exc:
        raise UsageError(f"{option}: {exc}") from None
    return Path(text)


def _web_options(args: argparse.Namespace, web_port: int | None) -> dict[str, object]:
    """The browser door's TLS, proxies, origins and presenter rule, checked now (a certificate that
    does not load is an error at the command line, not a door that never opens)."""
    if web_port is None:
        given = [name for name in ("web_cert", "web_key", "web_url") if getattr(args, name)]
        given += [name for name in ("web_proxy", "web_origin", "web_insecure_presenter") if getattr(args, name)]
        if given:
            raise UsageError(f"{given[0].replace('_', '-')}: there is no browser door without --web-port")
        return {}
    if bool(args.web_cert) != bool(args.web_key):
        raise UsageError("web-cert: --web-cert and --web-key go together (the certificate and its key)")
    from .serve.web import TLSError, origin_of, proxy_networks, tls_context  # aiohttp only when serving
    if args.web_cert:
        try:
            tls_context(Path(args.web_cert), Path(args.web_key))
        except TLSError as exc:
            raise UsageError(f"web-cert: {exc}") from None
    try:
        proxy_networks(tuple(args.web_proxy))
    except ValueError as exc:
        raise UsageError(f"web-proxy: {exc}") from None
    for origin in args.web_origin:
        if origin_of(origin) is None:
            raise UsageError(f"web-origin: {origin!r} is not an origin like https://host or http://host:port")
    if args.web_url is not None and origin_of(args.web_url) is None:
        raise UsageError(f"web-url: {args.web_url!r} is not a URL like https://host/")
    return {"web_cert": Path(args.web_cert) if args.web_cert else None,
            "web_key": Path(args.web_key) if args.web_key else None,
            "web_proxies": tuple(args.web_proxy), "web_origins": tuple(args.web_origin),
            "web_insecure_presenter": args.web_insecure_presenter, "web_url": args.web_url}


def cmd_serve(args: argparse.Namespace) -> int:
    """Check every option (the children get the same ones), then run the SSH server until stopped."""
    resolve_start(args)
    parse_hide(args.hide)
    child_args: list[str] = []
    _lesson(args.lesson)
    if args.lesson and Path(args.lesson).exists():
        args.lesson = str(Path(args.lesson).resolve())  # every visitor's simulator runs in its own folder
    for knob in ("preset", "method", *KNOB_NAMES, "theme", "hide"):
        value = getattr(args, knob)
        if value:
            child_args += [f"--{knob.replace('_', '-')}", value]
    if args.ascii:
        child_args.append("--ascii")
    if args.theme is not None:
        _theme(args.theme)
    port = _port("port", args.port)
    web_port = _port("web-port", args.web_port) if args.web_port is not None else None
    if args.no_ssh and web_port is None:
        raise UsageError("no-ssh: with no SSH listener, --web-port is needed (or nobody could come in)")
    if web_port is not None and args.authorized_keys:
        raise UsageError("web-port: a browser has no SSH key, so it cannot be used with --authorized-keys")
    if web_port is not None and not args.no_ssh and web_port == port != 0:
        raise UsageError(f"web-port: {web_port} is the SSH port too; give the browser door another")
    web = _web_options(args, web_port)
    keys = _key_file("authorized-keys", args.authorized_keys)
    presenter_keys = _key_file("presenter-key", args.presenter_key)
    user = args.presenter_user
    if not user or not user.isprintable() or len(user) > 64:
        raise UsageError(f"presenter-user: {user!r} is not a user name")
    from .wire import BUS_ENV, PRESENTER_PASSWORD_ENV
    bus = args.bus if args.bus is not None else os.environ.get(BUS_ENV) or None
    if bus is not None:
        from .serve.bus import ROOM_NAME, bus_url_shown, check_bus_url
        problem = check_bus_url(bus)
        if problem is not None:
            raise UsageError(f"bus: {problem}")
        if not ROOM_NAME.match(args.room):
            raise UsageError(f"room: {args.room!r} is not a room name (letters, digits, . _ -; up to 64)")
        if presenter_keys is None and not os.environ.get(PRESENTER_PASSWORD_ENV):
            raise UsageError(f"bus: every node of a room needs the presenter's key (--presenter-key) or password "
                             f"(KNOBTUI_PRESENTER_PASSWORD); {bus_url_shown(bus)} was given without either")
    from .serve.keys import KeyFileError
    from .serve.hub import ServeOptions
    from .serve.server import serve  # asyncssh and aiohttp only when serving
    options = ServeOptions(
        host=args.host, port=port, ssh=not args.no_ssh, web_port=web_port, host_key=Path(args.host_key) if args.host_key else None,
        authorized_keys=keys, max_sessions=int(_positive("max-sessions", args.max_sessions)),
        max_per_address=int(_positive("max-per-address", args.max_per_address)),
        max_seats=int(_positive("max-seats", args.max_seats)),
        max_seats_per_address=int(_positive("max-seats-per-address", args.max_seats_per_address)),
        idle_timeout=_positive("idle-timeout", args.idle_timeout, whole=False),
        login_timeout=_positive("login-timeout", args.login_timeout, whole=False),
        rate_limit=int(_positive("rate-limit", args.rate_limit)), child_args=child_args,
        presenter_keys=presenter_keys, presenter_password=os.environ.get(PRESENTER_PASSWORD_ENV) or None,
        presenter_user=user, lesson=args.lesson, warm=not args.cold_start,
        shared_views=not args.private_followers, bus=bus, room=args.room, **web)
    import asyncio
    try:
        return asyncio.run(serve(options))
    except KeyFileError as exc:
        print(f"knobtui serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"knobtui serve: cannot listen on {args.host}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _theme(name: str) -> str:
    from .tui.themes import check_theme  # Textual only when a screen's looks are asked for
    try:
        return check_theme(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _port(option: str, text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a whole number") from None
    if not 0 <= port <= 65535:
        raise UsageError(f"{option}: {port} is not between 0 and 65535")
    return port


def run_notes(session: Session) -> list[str]:
    """What a headless run says on stderr: divergence (where and why) and overflow."""
    notes: list[str] = []
    status = session.status
    knobs = session.knobs
    diverges = session.method == "gradient" and not stability(knobs).converges
    first_growth = _first_growth(session) if diverges else None  # the scan is only worth it when diverging
    if diverges and first_growth is not None and knobs.input:
        notes.append(divergence_note(knobs, first_growth))
    if status.kind == "overflow":
        notes.append(f"stopped: {status.text}; every number written is finite")
    return [n for n in notes if n]


def _first_growth(session: Session) -> int | None:
    """The first iteration of the last stretch of knobs whose error exceeded the one before it."""
    seg = session.segments[-1]
    prev = None
    for rec in session.records(seg.start + 1):
        if prev is not None and rec.error > prev:
            return rec.iteration
        prev = rec.error
    return None


def _quiet_stdout() -> None:
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


VALUE_OPTIONS = ("--weight", "--input", "--goal", "--alpha", "--step-amount", "--tolerance", "--steps")
"""Options whose value may be a negative number: `--input -1e2` reads as `--input=-1e2`, as people type it
(argparse takes `-1e2` and `-inf` for options of their own)."""


def _join_negative_values(words: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in VALUE_OPTIONS and i + 1 < len(words) and words[i + 1].startswith("-") and _numberish(words[i + 1]):
            out.append(f"{word}={words[i + 1]}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def _numberish(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(_join_negative_values(sys.argv[1:] if argv is None else argv))
        if args.command == "run":
            return cmd_run(args)
        if args.command == "serve":
            return cmd_serve(args)
        start = resolve_start(args)
        hidden = parse_hide(args.hide)
        lesson = _lesson(args.lesson)
        if args.list_themes:
            from .tui.themes import theme_names  # Textual only when a screen's looks are asked for
            print("\n".join(theme_names()))
            return 0
        if args.theme is not None:
            _theme(args.theme)
        keys = _keymap(args.keys)
    except UsageError as exc:
        words = list(sys.argv[1:] if argv is None else argv)
        sub = next((w for i, w in enumerate(words) if w in ("run", "serve")
                    and (i == 0 or not words[i - 1].startswith("-"))), None)
        prog = f"knobtui {sub}" if sub else "knobtui"
        print(f"{prog}: {' '.join(str(exc).split())}", file=sys.stderr)  # always one line
        return 2
    # The plot is drawn in a second frame just after the cheap parts; Textual's default cap of 60
    # frames a second would hold that frame back ~16 ms. 240 lets it follow at once (docs/benchmarks.md).
    os.environ.setdefault("TEXTUAL_FPS", "240")
    from .tui.main import run_app  # Textual only when a screen is drawn
    from .tui.glyphs import wants_ascii
    from .tui.themes import remembered_theme
    theme = args.theme or remembered_theme()
    return run_app(start, theme, ascii=args.ascii or wants_ascii(), hidden=hidden, lesson=lesson, keys=keys)


def _keymap(path: str | None) -> tuple[Key, ...] | None:
    """The key table with the user's keymap (--keys FILE, or keys.toml in the config folder); None for a
    visitor of `knobtui serve`, whose keys are the server's to read. UsageError names what is wrong."""
    from .tui.keys import KeymapError, load_keymap
    from .tui.limits import is_served
    if is_served(os.environ):
        return None
    try:
        return load_keymap(Path(path) if path is not None else None)
    except KeymapError as exc:
        raise UsageError(f"--keys: {exc}" if path is not None else str(exc)) from None


def entry() -> None:
    sys.exit(main())
