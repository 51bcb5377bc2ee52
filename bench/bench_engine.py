"""Engine benchmark: knobtui's headless runs against the book's bare loops, side by side.

    python bench/bench_engine.py            # 5 runs each, medians
    python bench/bench_engine.py --runs 3 --steps 200000

(a) hot and cold, 1,000,000 iterations: `knobtui run --preset hot-cold --steps N --format summary` as a
    process (start-up included) against a process running the book's loop (no printing) for N iterations.
(b) the same for gradient descent (`--preset gradient`, the book's direction-and-amount loop).
(c) in-process: Session.run(N) iterations per second against the same bare loop in a function.
(d) bytes of weight history per iteration after N iterations.
(e) the lecture's run: `knobtui run --method hot-cold --weight 0.5 --input 0.5 --goal 0.8 --step-amount
    0.000001 --steps N` with `--format summary` against the book's loop, and with `--format text`, `csv`
    and `jsonl` against the book's loop writing the same lines itself (an f-string per iteration to
    stdout): the writer's speed. Each pair is checked to write the same bytes.

Each pair is checked to end on the same final weight, so both sides do the same arithmetic.
The process is started as `sys.executable -m knobtui` (what the `knobtui` script runs, without the
start-up of any shim in front of it, e.g. pyenv's).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time

from knobtui.learning import Session, get_preset

HOT_COLD_BOOK = """\
weight = 0.5
input = 0.5
goal_prediction = 0.8
step_amount = 0.001
for iteration in range({n}):
    prediction = input * weight
    error = (prediction - goal_prediction) ** 2
    up_prediction = input * (weight + step_amount)
    up_error = (goal_prediction - up_prediction) ** 2
    down_prediction = input * (weight - step_amount)
    down_error = (goal_prediction - down_prediction) ** 2
    if (down_error < up_error):
        weight = weight - step_amount
    if (down_error > up_error):
        weight = weight + step_amount
print(repr(weight))
"""

GRADIENT_BOOK = """\
weight = 0.5
goal_pred = 0.8
my_input = 0.5
for iteration in range({n}):
    pred = my_input * weight
    error = (pred - goal_pred) ** 2
    direction_and_amount = (pred - goal_pred) * my_input
    weight = weight - direction_and_amount
print(repr(weight))
"""


def bare_hot_cold(n: int) -> float:
    """The book's hot-and-cold loop, in a function (local variables), without printing."""
    weight, input, goal_prediction, step_amount = 0.5, 0.5, 0.8, 0.001
    for _ in range(n):
        prediction = input * weight
        error = (prediction - goal_prediction) ** 2  # noqa: F841 - the book computes it
        up_error = (goal_prediction - input * (weight + step_amount)) ** 2
        down_error = (goal_prediction - input * (weight - step_amount)) ** 2
        if down_error < up_error:
            weight = weight - step_amount
        if down_error > up_error:
            weight = weight + step_amount
    return weight


def bare_gradient(n: int) -> float:
    """The book's gradient loop, in a function, without printing."""
    weight, goal_pred, my_input = 0.5, 0.8, 0.5
    for _ in range(n):
        pred = my_input * weight
        error = (pred - goal_pred) ** 2  # noqa: F841
        weight = weight - (pred - goal_pred) * my_input
    return weight


LECTURE = ["--method", "hot-cold", "--weight", "0.5", "--input", "0.5", "--goal", "0.8",
           "--step-amount", "0.000001"]
WRITER_BOOK = ("import sys\nwrite = sys.stdout.write\n{head}\n"
               + HOT_COLD_BOOK.replace("0.001", "0.000001")
               .replace("    if (down_error < up_error):", "    old = weight\n    if (down_error < up_error):")
               .replace("print(repr(weight))", '    write(f"{line}\\n")'))
"""The book's loop writing a line each iteration itself: `old` is the weight the iteration began with."""
WRITER_LINES = {  # (a line before the loop, the f-string written each iteration)
    "text": ("", "Error: {error!r} Prediction: {prediction!r} Weight: {weight!r} Up Error: {up_error!r} "
                 "Down Error: {down_error!r}"),
    "csv": ("write('iteration,method,weight,prediction,error,new_weight,up_error,down_error\\n')",
            "{iteration + 1},hot-cold,{old!r},{prediction!r},{error!r},{weight!r},{up_error!r},{down_error!r}"),
    "jsonl": ("", '{{\\"iteration\\": {iteration + 1}, \\"method\\": \\"hot-cold\\", \\"weight\\": {old!r}, '
                  '\\"prediction\\": {prediction!r}, \\"error\\": {error!r}, \\"new_weight\\": {weight!r}, '
                  '\\"up_error\\": {up_error!r}, \\"down_error\\": {down_error!r}}}'),
}


def writer_pair(fmt: str, n: int, runs: int) -> dict[str, object]:
    """`knobtui run` of the lecture's knobs in `fmt` against the book's loop writing the same bytes."""
    knobtui_cmd = [sys.executable, "-m", "knobtui", "run", *LECTURE, "--steps", str(n), "--format", fmt]
    if fmt == "summary":
        bare_cmd = [sys.executable, "-c", HOT_COLD_BOOK.replace("0.001", "0.000001").format(n=n)]
    else:
        head, line = WRITER_LINES[fmt]
        bare_cmd = [sys.executable, "-c", WRITER_BOOK.format(n=n, head=head, line=line)]
    tk, tb = [], []
    for _ in range(runs):
        dt, out_k = time_process(knobtui_cmd)
        tk.append(dt)
        dt, out_b = time_process(bare_cmd)
        tb.append(dt)
    if fmt == "summary":
        m = FINAL_WEIGHT.search(out_k)
        same = m is not None and m.group(1) == out_b.strip()
    else:
        same = out_k == out_b
    if not same:
        raise SystemExit(f"{fmt}: knobtui and the book's loop wrote different things")
    k, b = statistics.median(tk), statistics.median(tb)
    return {"knobtui": k, "bare": b, "ratio": k / b}


FINAL_WEIGHT = re.compile(r"final weight (\S+),")


def time_process(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed: {proc.stderr.strip()}")
    return dt, proc.stdout


def process_pair(preset: str, book_code: str, n: int, runs: int) -> dict[str, object]:
    knobtui_cmd = [sys.executable, "-m", "knobtui", "run", "--preset", preset, "--steps", str(n),
                   "--format", "summary"]
    bare_cmd = [sys.executable, "-c", book_code.format(n=n)]
    tk, tb = [], []
    wk = wb = None
    for _ in range(runs):  # interleaved, so drift affects both alike
        dt, out = time_process(knobtui_cmd)
        tk.append(dt)
        m = FINAL_WEIGHT.search(out)
        wk = m.group(1) if m else out.strip()
        dt, out = time_process(bare_cmd)
        tb.append(dt)
        wb = out.strip()
    if wk != wb:
        raise SystemExit(f"{preset}: knobtui ended on weight {wk}, the bare loop on {wb}")
    k, b = statistics.median(tk), statistics.median(tb)
    return {"knobtui": k, "bare": b, "ratio": k / b, "weight": wk}


def in_process_pair(preset: str, bare, n: int, runs: int) -> dict[str, object]:
    p = get_preset(preset)
    tk, tb = [], []
    hist = None
    for _ in range(runs):
        s = Session(p.knobs, p.method)
        t0 = time.perf_counter()
        s.run(n)
        tk.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        w = bare(n)
        tb.append(time.perf_counter() - t0)
        if repr(w) != repr(s.weight):
            raise SystemExit(f"{preset}: Session ended on {s.weight!r}, the bare loop on {w!r}")
        hist = s.history_bytes() / n
        del s
    k, b = statistics.median(tk), statistics.median(tb)
    return {"knobtui": n / k, "bare": n / b, "ratio": b / k, "bytes": hist}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure; the median is shown (default 5)")
    ap.add_argument("--steps", type=int, default=1_000_000, help="iterations per run (default 1000000)")
    args = ap.parse_args(argv)
    n, runs = args.steps, args.runs

    print(f"knobtui engine benchmark: {n:,} iterations, median of {runs} runs")
    print(f"{_dt.date.today().isoformat()}  Python {platform.python_version()}  {platform.machine()}  "
          f"{os.cpu_count()} cores  {platform.platform(terse=True)}")
    print()

    a = process_pair("hot-cold", HOT_COLD_BOOK, n, runs)
    b = process_pair("gradient", GRADIENT_BOOK, n, runs)
    print("Whole process, start-up included (seconds)")
    print(f"  {'':26} {'knobtui run':>12} {'book loop':>12} {'knobtui/book':>13}")
    for name, r in (("(a) hot and cold", a), ("(b) gradient descent", b)):
        print(f"  {name:26} {r['knobtui']:12.3f} {r['bare']:12.3f} {r['ratio']:12.2f}x")
    print()

    c1 = in_process_pair("hot-cold", bare_hot_cold, n, runs)
    c2 = in_process_pair("gradient", bare_gradient, n, runs)
    print("In process (iterations per second)")
    print(f"  {'':26} {'Session.run':>12} {'bare loop':>12} {'Session/bare':>13}")
    for name, r in (("(c) hot and cold", c1), ("(c) gradient descent", c2)):
        print(f"  {name:26} {r['knobtui']:12,.0f} {r['bare']:12,.0f} {r['ratio']:12.2f}x")
    print()
    print("History")
    print(f"  (d) bytes per iteration after {n:,} iterations: hot and cold {c1['bytes']:.6f}, "
          f"gradient descent {c2['bytes']:.6f}")
    print()
    print("The lecture's run, step 0.000001, whole process (seconds)")
    print(f"  {'':34} {'knobtui run':>12} {'book loop':>12} {'knobtui/book':>13}")
    for fmt in ("summary", "text", "csv", "jsonl"):
        r = writer_pair(fmt, n, runs)
        name = f"(e) --format {fmt}" + ("" if fmt == "summary" else " (book writes)")
        print(f"  {name:34} {r['knobtui']:12.3f} {r['bare']:12.3f} {r['ratio']:12.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
