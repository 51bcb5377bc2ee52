"""The command line: usage errors in process (`main(argv)`); `knobtui run` as a real process for exports
that read back exactly, overflow, imports and pipes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from knobtui.cli import main
from knobtui.learning import Session, get_preset

KNOB_OPTIONS = ("--weight", "--input", "--goal", "--alpha", "--step-amount")


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knobtui", "run", *args],
                          capture_output=True, text=True, timeout=timeout)


def run_many(arg_lists: list[tuple[str, ...]]) -> list[subprocess.CompletedProcess]:
    """Start the processes two at a time (the machine has two cores); results in order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda a: run(*a), arg_lists))


def in_process(*argv: str) -> subprocess.CompletedProcess:
    """`knobtui ARGV` run by calling the CLI's main() here: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return subprocess.CompletedProcess(["knobtui", *argv], status, out.getvalue(), err.getvalue())


def assert_one_line_usage_error(proc: subprocess.CompletedProcess, *must_name: str) -> str:
    assert proc.returncode == 2, (proc.args, proc.returncode, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert proc.stderr == line + "\n"
    assert line.startswith("knobtui run: "), line
    for word in must_name:
        assert word in line, (word, line)
    return line


# ---------------------------------------------------------------------------------------------
# Bad input: exit 2, one line on stderr naming the value, no traceback
# ---------------------------------------------------------------------------------------------

BAD_KNOB_VALUES = ("abc", "nan", "inf", "1e999")


def test_bad_knob_values_every_option() -> None:
    cases = [(opt, bad) for opt in KNOB_OPTIONS for bad in BAD_KNOB_VALUES]
    cases += [(opt, "") for opt in KNOB_OPTIONS]
    cases += [(opt, "-inf") for opt in KNOB_OPTIONS] + [(opt, "-1e999") for opt in KNOB_OPTIONS]
    for opt, bad in cases:
        proc = in_process("run", f"{opt}={bad}")
        line = assert_one_line_usage_error(proc, bad, opt)
        knob_label = opt[2:].replace("-", " ")
        assert f"{knob_label}: " in line, line


@pytest.mark.parametrize("args,names", [
    (("--steps", "-1"), ("steps", "-1")),
    (("--steps", "1.5"), ("steps", "1.5")),
    (("--steps", "abc"), ("steps", "abc")),
    (("--steps", ""), ("steps",)),
    (("--preset", "nope"), ("preset", "nope")),
    (("--method", "sideways"), ("method", "sideways")),
    (("--format", "xml"), ("format", "xml")),
    (("--tolerance", "-1"), ("tolerance", "-1")),
    (("--tolerance", "abc"), ("tolerance", "abc")),
    (("--tolerance", "nan"), ("tolerance", "nan")),
    (("--tolerance", "inf"), ("tolerance", "inf")),
    (("--step-amount", "0"), ("step amount", "0")),
    (("--step-amount", "-0.1"), ("step amount", "-0.1")),
    (("--step-amount=-0.1",), ("step amount", "-0.1")),
    (("--frobnicate",), ("--frobnicate",)),
    (("--steps",), ("--steps",)),
])
def test_bad_options(args: tuple[str, ...], names: tuple[str, ...]) -> None:
    assert_one_line_usage_error(in_process("run", *args), *names)


@pytest.mark.parametrize("args,names", [
    (("--weight", "-inf"), ("weight", "-inf", "finite")),
    (("--input", "-1e999"), ("input", "-1e999")),
    (("--alpha", "-nan"), ("alpha", "-nan")),
    (("--preset", ""), ("preset", "''")),
    (("--method", ""), ("method", "''")),
])
def test_negative_and_empty_values_are_read_and_refused_by_name(args: tuple[str, ...], names: tuple[str, ...]) -> None:
    assert_one_line_usage_error(in_process("run", *args), *names)


def test_negative_numbers_read_as_people_type_them() -> None:
    """`--input -1e2` is the value -100, not an option: the same run as `--input=-1e2`."""
    for spaced, joined in ((("--input", "-1e2"), ("--input=-1e2",)), (("--weight", "-0.5"), ("--weight=-0.5",)),
                           (("--goal", "-2"), ("--goal=-2",)), (("--alpha", "-.1"), ("--alpha=-.1",))):
        a, b = in_process("run", "--steps", "3", *spaced), in_process("run", "--steps", "3", *joined)
        assert a.returncode == b.returncode == 0, (a.stderr, b.stderr)
        assert a.stdout == b.stdout and a.stdout.count("\n") == 3
    weight, goal = get_preset("gradient").knobs.weight, get_preset("gradient").knobs.goal
    error = (-100.0 * weight - goal) ** 2  # the book's arithmetic with input = -100
    assert in_process("run", "--steps", "1", "--input", "-1e2").stdout.startswith(f"Error: {error!r} ")


def test_bad_command_outside_run() -> None:
    proc = in_process("--weight", "abc")
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "abc" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------------------
# CSV and JSON lines read back to exactly the engine's records
# ---------------------------------------------------------------------------------------------

NUMBER_COLUMNS = ("weight", "prediction", "error", "new_weight", "delta", "weight_delta", "up_error", "down_error")


def engine_records(preset: str, steps: int | None = None, **knobs: float) -> list:
    p = get_preset(preset)
    s = Session(p.knobs.with_values(**knobs), p.method)
    s.run(p.book_steps if steps is None else steps)
    return list(s.records())


def _same(a: float, b: float) -> bool:
    return repr(a) == repr(b)  # bit for bit, including the sign of zero


@pytest.mark.parametrize("preset,extra,knobs", [
    ("hot-cold", (), {}),
    ("gradient", ("--steps", "60"), {}),
    ("divergence", ("--steps", "300"), {}),
    ("stopping", ("--steps", "3"), {}),
    ("gradient", ("--steps", "30", "--input=1e-300", "--weight=-1.7e308", "--goal=5e-324", "--alpha=0.3"),
     {"input": 1e-300, "weight": -1.7e308, "goal": 5e-324, "alpha": 0.3}),
])
def test_csv_round_trip(preset: str, extra: tuple[str, ...], knobs: dict) -> None:
    proc = run("--preset", preset, "--format", "csv", *extra)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    recs = engine_records(preset, int(extra[1]) if extra else None, **knobs)
    assert len(rows) == len(recs) > 0
    method = recs[0].method
    expected_cols = ["iteration", "method", "weight", "prediction", "error", "new_weight"] + (
        ["delta", "weight_delta"] if method == "gradient" else ["up_error", "down_error"])
    assert list(rows[0].keys()) == expected_cols
    for row, rec in zip(rows, recs):
        assert int(row["iteration"]) == rec.iteration
        assert row["method"] == rec.method
        for col in expected_cols[2:]:
            assert _same(float(row[col]), getattr(rec, col)), (col, row[col], getattr(rec, col))
            assert row[col] == repr(getattr(rec, col))


@pytest.mark.parametrize("preset,steps", [("hot-cold", None), ("watch-four", None), ("divergence", 300),
                                          ("scaling", 5), ("negative", 40)])
def test_jsonl_round_trip(preset: str, steps: int | None) -> None:
    args = ("--preset", preset, "--format", "jsonl") + (("--steps", str(steps)) if steps else ())
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    recs = engine_records(preset, steps)
    assert len(lines) == len(recs) > 0
    for line, rec in zip(lines, recs):
        obj = json.loads(line)
        assert obj["iteration"] == rec.iteration and obj["method"] == rec.method
        present = {c for c in NUMBER_COLUMNS if getattr(rec, c) is not None}
        assert set(obj) == {"iteration", "method"} | present
        for col in present:
            assert isinstance(obj[col], float)
            assert _same(obj[col], getattr(rec, col)), (col, obj[col], getattr(rec, col))


def test_text_matches_engine_for_every_line() -> None:
    proc = run("--preset", "toes", "--steps", "50")
    recs = engine_records("toes", 50)
    assert proc.stdout.splitlines() == [
        f"Error: {r.error!r} Prediction: {r.prediction!r} Weight: {r.new_weight!r} "
        f"Up Error: {r.up_error!r} Down Error: {r.down_error!r}" for r in recs]


def test_steps_zero_writes_nothing_but_csv_header() -> None:
    a, b, c = run_many([("--steps", "0"), ("--steps", "0", "--format", "csv"), ("--steps", "0", "--format", "summary")])
    assert (a.returncode, a.stdout) == (0, "")
    assert b.stdout == "iteration,method,weight,prediction,error,new_weight,delta,weight_delta\n"
    assert c.stdout.startswith("0 iterations of gradient: weight 0.5")


# ---------------------------------------------------------------------------------------------
# Divergence until overflow
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "csv", "jsonl"])
def test_divergence_400_stops_at_overflow(fmt: str) -> None:
    proc = run("--preset", "divergence", "--steps", "400", "--format", fmt)
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr
    assert "iteration 326" in proc.stderr
    assert "alpha*input**2 = 4.0" in proc.stderr
    assert "overflow" in proc.stderr
    out = proc.stdout
    assert "inf" not in out.lower() and "nan" not in out.lower()
    if fmt == "text":
        lines = out.splitlines()
        numbers = [float(tok) for line in lines for tok in line.split() if tok[0] in "-0123456789"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        lines = rows
        numbers = [float(v) for row in rows for k, v in row.items() if k not in ("iteration", "method")]
    else:
        lines = [json.loads(line) for line in out.splitlines()]
        numbers = [v for obj in lines for v in obj.values() if isinstance(v, float)]
    assert len(lines) == 325
    assert numbers and all(math.isfinite(x) for x in numbers)


def test_divergence_until_converged_also_stops_at_overflow() -> None:
    proc = run("--preset", "divergence", "--until-converged", "--format", "summary")
    assert proc.returncode == 0
    assert proc.stdout.startswith("325 iterations of gradient")
    assert "iteration 326" in proc.stderr and "alpha*input**2 = 4.0" in proc.stderr


def test_divergence_book_steps_notes_divergence_without_overflow() -> None:
    proc = run("--preset", "divergence")
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 20
    assert "alpha*input**2 = 4.0" in proc.stderr
    assert "overflow" not in proc.stderr


# ---------------------------------------------------------------------------------------------
# Process behaviour: no Textual, python -m, pipes
# ---------------------------------------------------------------------------------------------

def test_run_does_not_import_textual() -> None:
    code = (
        "import sys, io, contextlib\n"
        "import knobtui.cli\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    rc = knobtui.cli.main(['run', '--preset', 'hot-cold', '--format', 'summary'])\n"
        "assert rc == 0, rc\n"
        "assert 'converged at iteration 1101' in buf.getvalue(), buf.getvalue()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext', 'plotext'))\n"
        "print(len(bad), bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0 []"


def test_run_importtime_has_no_textual() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "knobtui", "run", "--format", "summary"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "knobtui.cli" in proc.stderr  # the import log is there
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert not [m for m in imported if m.split(".")[0] == "textual"]


def test_python_dash_m_and_console_script_agree() -> None:
    proc = run("--preset", "watch-four")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 4
    from pathlib import Path
    exe = Path(sys.executable).with_name("knobtui")  # the console script installed beside this Python
    assert exe.exists(), f"no console script at {exe}: pip install . installs one"
    proc2 = subprocess.run([str(exe), "run", "--preset", "watch-four"], capture_output=True, text=True, timeout=60)
    assert (proc2.returncode, proc2.stdout, proc2.stderr) == (0, proc.stdout, proc.stderr)


@pytest.mark.parametrize("fmt", ["text", "csv", "jsonl"])
def test_pipe_into_head_no_traceback(fmt: str) -> None:
    cmd = (f"set -o pipefail; {sys.executable} -m knobtui run --preset hot-cold --steps 200000 --format {fmt}"
           f" | head -1")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 1
    if fmt == "text":
        assert proc.stdout.startswith("Error: 0.30250000000000005 Prediction: 0.25 ")


def test_closed_stdout_early_no_traceback() -> None:
    """Like `| head -1`, but the reader closes the pipe after one line of a long divergent run."""
    p = subprocess.Popen([sys.executable, "-m", "knobtui", "run", "--preset", "gradient", "--steps", "300000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    rc = p.wait(timeout=120)
    assert first.startswith("Error: 0.30250000000000005 Prediction: 0.25 ")
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""
    assert rc == 0


@pytest.mark.parametrize("argv", [["run", "--tolerance", "nan\n"], ["run", "a\nb"], ["run", "--steps", "99999999999"],
                                  ["--preset", "run"]])
def test_more_bad_input_is_one_line(argv: list[str]) -> None:
    r = in_process(*argv)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("hide,message", [("input,nope", "'nope' is not a knob"),
                                          ("weight,input,goal,alpha,step", "at least one knob")])
def test_hide_refuses_unknown_or_all_knobs(hide: str, message: str) -> None:
    r = in_process("--hide", hide)
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1


def test_parse_hide_accepts_names_people_type() -> None:
    from knobtui.cli import parse_hide
    assert parse_hide("input, alpha") == {"input", "alpha"}
    assert parse_hide("step-amount") == parse_hide("step") == {"step_amount"}


def test_run_streams_its_records_and_ctrl_c_keeps_them() -> None:
    """10M steps print as they go; Ctrl-C ends the run with what was written, exit 130, no traceback."""
    import signal
    proc = subprocess.Popen([sys.executable, "-m", "knobtui", "run", "--steps", "10000000", "--format", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    header = proc.stdout.readline()
    first = [proc.stdout.readline() for _ in range(5000)]  # records arrive long before the run could end
    assert header.startswith("iteration,") and first[0].startswith("1,")
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()  # through the same reader: communicate() would skip what readline() buffered
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.wait(60) == 130, err
    assert "Traceback" not in err and re.fullmatch(r"knobtui run: interrupted after \d+ iterations\n", err), err
    lines = first + rest.splitlines(keepends=True)
    bad = [(n, line) for n, line in enumerate(lines[:-1]) if line.count(",") != header.count(",")]
    assert not bad, (bad[:3], len(lines), err)
    taken = int(re.search(r"after (\d+)", err).group(1))  # type: ignore[union-attr]
    assert 5000 <= len(lines) == taken < 10_000_000  # every iteration taken was written, whole
