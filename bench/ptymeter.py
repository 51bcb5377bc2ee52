#!/usr/bin/env python3
# Copied from shared/tools/ptymeter.py (the team's pty meter) so bench/ runs on its own.
"""Run a terminal program on a pseudo-terminal and measure it as a person's terminal would see it.

Usage: ptymeter.py [--cols C] [--rows R] [--key K] [--presses N] [--settle S] [--screen] -- COMMAND...
Prints startup (first byte, output quiet) and, per key press, latency to the first output byte, to the
last byte of the update (the frame complete) and bytes written; the last line is
`bytes_per_press=N first_byte_ms=X last_byte_ms=Z startup_ms=Y`.
"""
import argparse, fcntl, os, pty, select, signal, statistics, struct, termios, time


def _drain(fd, quiet, hard):
    """Read until `quiet` s of silence (after some output) or `hard` s; return (bytes, t_first, t_last)."""
    got = bytearray(); first = last = None; start = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now - start > hard or (last is not None and now - last > quiet):
            break
        r, _, _ = select.select([fd], [], [], 0.005)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            now = time.perf_counter()
            first = first or now
            last = now
            got += chunk
    return got, first, last


def measure(cmd, cols=80, rows=24, key=" ", presses=20, settle=0.15, startup_timeout=20, env=None):
    """Start `cmd` on a pty of cols x rows; press `key` `presses` times; return figures and screen bytes."""
    pid, fd = pty.fork()
    if pid == 0:
        # size the terminal before the program starts, so it never sees a 0x0 terminal
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.environ.update(env or {})
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    t0 = time.perf_counter()
    out, first, last = _drain(fd, 0.5, startup_timeout)
    screen = bytearray(out)
    res = {"startup_first_ms": float("nan"), "startup_ms": float("nan"), "startup_bytes": len(out)}
    if first is not None:
        res.update(startup_first_ms=1000 * (first - t0), startup_ms=1000 * (last - t0))
    lat, done, sizes = [], [], []
    for _ in range(presses if first is not None else 0):
        ts = time.perf_counter()
        os.write(fd, key.encode())
        out, f, l = _drain(fd, settle, 5)
        screen += out
        lat.append(1000 * (f - ts) if f else float("nan"))
        done.append(1000 * (l - ts) if l else float("nan"))
        sizes.append(len(out))
    try:
        os.kill(pid, signal.SIGTERM); time.sleep(0.3); os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    ok = [x for x in lat if x == x]
    okd = [x for x in done if x == x]
    res.update(first_byte_ms=statistics.median(ok) if ok else float("nan"),
               last_byte_ms=statistics.median(okd) if okd else float("nan"),
               first_byte_max_ms=max(ok) if ok else float("nan"),
               bytes_per_press=statistics.median(sizes) if sizes else float("nan"),
               silent_presses=len(lat) - len(ok))
    res["screen"] = bytes(screen)
    return res


def render(screen_bytes, cols, rows):
    import pyte
    s = pyte.Screen(cols, rows); pyte.ByteStream(s).feed(screen_bytes)
    return "\n".join(s.display)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--key", default=" ")
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--settle", type=float, default=0.15)
    ap.add_argument("--screen", action="store_true", help="print the final screen (needs pyte)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    r = measure(cmd, a.cols, a.rows, a.key, a.presses, a.settle)
    if a.screen:
        print(render(r["screen"], a.cols, a.rows))
    print(f"startup: first byte {r['startup_first_ms']:.0f} ms, quiet after {r['startup_ms']:.0f} ms, {r['startup_bytes']} bytes")
    print(f"per press (n={a.presses}): first byte median {r['first_byte_ms']:.1f} ms (max {r['first_byte_max_ms']:.1f}), "
          f"last byte median {r['last_byte_ms']:.1f} ms, bytes median {r['bytes_per_press']:.0f}, "
          f"silent presses {r['silent_presses']}")
    print(f"bytes_per_press={r['bytes_per_press']:.0f} first_byte_ms={r['first_byte_ms']:.1f} "
          f"last_byte_ms={r['last_byte_ms']:.1f} startup_ms={r['startup_ms']:.0f}")


if __name__ == "__main__":
    main()
