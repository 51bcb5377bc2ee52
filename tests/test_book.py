"""Every number chapter 4 prints, digit for digit, through the engine and through `knobtui run`.

The book's printed output is copied below as literal text from /work/shared/seed/chapter4-notes.md.
Floats are compared as repr strings (Python's str of a float is its repr), so a difference in the
last bit fails the test.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys

import pytest

from knobtui.learning import Session, get_preset, gradient_step, hot_cold_step

# ---------------------------------------------------------------------------------------------
# The book's printed output, verbatim.
# ---------------------------------------------------------------------------------------------

TOES_ERROR = "0.022499999999999975"
TOES_UP_ERROR = "0.49000000000000027"  # lr = 0.1
TOES_DOWN_ERROR = "0.05522499999999994"  # the book changed lr to 0.01 before this comparison

HOT_COLD_FIRST = """\
Error: 0.30250000000000005 Prediction: 0.25
Error: 0.3019502500000001 Prediction: 0.2505
Error: 0.30140100000000003 Prediction: 0.251
Error: 0.30085225 Prediction: 0.2515
Error: 0.30030400000000007 Prediction: 0.252
Error: 0.2997562500000001 Predict""".splitlines()  # the notes cut the sixth line short
HOT_COLD_LAST = "Error: 1.0799505792475652e-27 Prediction: 0.7999999999999672"
HOT_COLD_ITERATIONS = 1101

GRADIENT = """\
Error: 0.30250000000000005 Prediction: 0.25
Error: 0.17015625000000004 Prediction: 0.3875
Error: 0.095712890625 Prediction: 0.49062500000000003
Error: 0.05383850097656251 Prediction: 0.56796875
Error: 0.03028415679931642 Prediction: 0.6259765625
Error: 0.0170348381996155 Prediction: 0.669482421875
Error: 0.00958209648728372 Prediction: 0.70211181640625
Error: 0.005389929274097089 Prediction: 0.7265838623046875
Error: 0.0030318352166796153 Prediction: 0.7449378967285156
Error: 0.0017054073093822882 Prediction: 0.7587034225463867
Error: 0.0009592916115275371 Prediction: 0.76902756690979
Error: 0.0005396015314842384 Prediction: 0.7767706751823426
Error: 0.000303525861459885 Prediction: 0.7825780063867569
Error: 0.00017073329707118678 Prediction: 0.7869335047900676
Error: 9.603747960254256e-05 Prediction: 0.7902001285925507
Error: 5.402108227642978e-05 Prediction: 0.7926500964444131
Error: 3.038685878049206e-05 Prediction: 0.7944875723333098
Error: 1.7092608064027242e-05 Prediction: 0.7958656792499823
Error: 9.614592036015323e-06 Prediction: 0.7968992594374867
Error: 5.408208020258491e-06 Prediction: 0.7976744445781151""".splitlines()

# (test_input, w, printed lines); goal_prediction is .8 in every example.
DIRECTION_AND_AMOUNT = [
    (100, 0.5, ("Prediction: 50.0", "Pure error: 49.2", "Direction and Amount: 4920.0")),
    (100, 0.75, ("Prediction: 75.0", "Pure error: 74.2", "Direction and Amount: 7420.0")),
    (-100, 0.5, ("Prediction: -50.0", "Pure error: -50.8", "Direction and Amount: 5080.0")),
    (-100, 0.75, ("Prediction: -75.0", "Pure error: -75.8", "Direction and Amount: 7580.0")),
    (0, 0.5, ("Prediction: 0.0", "Pure error: -0.8", "Direction and Amount: -0.0")),
    (50000, 0.5, ("Prediction: 25000.0", "Pure error: 24999.2", "Direction and Amount: 1249960000.0")),
]

FROM_ZERO = """\
Error: 0.6400000000000001 Prediction: 0.0 Weight: 0.4
Error: 0.3600000000000001 Prediction: 0.2 Weight: 0.7000000000000001
Error: 0.2025 Prediction: 0.35000000000000003 Weight: 0.925
Error: 0.11390625000000001 Prediction: 0.4625 Weight: 1.09375
Error: 0.06407226562500003 Prediction: 0.546875 Weight: 1.2203125
Error: 0.036040649414062535 Prediction: 0.61015625 Weight: 1.315234375
Error: 0.020272865295410177 Prediction: 0.6576171875 Weight: 1.38642578125
Error: 0.011403486728668217 Prediction: 0.693212890625 Weight: 1.4398193359375
Error: 0.006414461284875877 Prediction: 0.71990966796875 Weight: 1.479864501953125
Error: 0.0036081344727426873 Prediction: 0.7399322509765625 Weight: 1.5098983764648437""".splitlines()

WATCH_FOUR = """\
-----
Weight:0.0
Error:0.6400000000000001 Prediction:0.0
Delta:-0.8 Weight Delta:-0.8800000000000001
-----
Weight:0.8800000000000001
Error:0.02822400000000005 Prediction:0.9680000000000002
Delta:0.16800000000000015 Weight Delta:0.1848000000000002
-----
Weight:0.6951999999999999
Error:0.0012446784000000064 Prediction:0.76472
Delta:-0.03528000000000009 Weight Delta:-0.0388080000000001
-----
Weight:0.734008
Error:5.4890317439999896e-05 Prediction:0.8074088
Delta:0.007408799999999993 Weight Delta:0.008149679999999992
"""

DIVERGENCE = """\
Error: 0.03999999999999998 Prediction: 1.0
Error: 0.3599999999999998 Prediction: 0.20000000000000018
Error: 3.2399999999999984 Prediction: 2.5999999999999996
Error: 29.159999999999986 Prediction: -4.599999999999999
Error: 262.4399999999999 Prediction: 16.999999999999996
Error: 2361.959999999998 Prediction: -47.79999999999998
Error: 21257.639999999978 Prediction: 146.59999999999994
Error: 191318.75999999983 Prediction: -436.5999999999998
Error: 1721868.839999999 Prediction: 1312.9999999999995
Error: 15496819.559999991 Prediction: -3935.799999999999
Error: 139471376.03999993 Prediction: 11810.599999999997
Error: 1255242384.3599997 Prediction: -35428.59999999999
Error: 11297181459.239996 Prediction: 106288.99999999999
Error: 101674633133.15994 Prediction: -318863.79999999993
Error: 915071698198.4395 Prediction: 956594.5999999997
Error: 8235645283785.954 Prediction: -2869780.599999999
Error: 74120807554073.56 Prediction: 8609344.999999996
Error: 667087267986662.1 Prediction: -25828031.799999986
Error: 6003785411879960.0 Prediction: 77484098.59999996
Error: 5.403406870691965e+16 Prediction: -232452292.5999999""".splitlines()

ALPHA = """\
Error: 0.03999999999999998 Prediction: 1.0
Error: 0.0144 Prediction: 0.92
Error: 0.005183999999999993 Prediction: 0.872
Error: 0.0018662400000000014 Prediction: 0.8432000000000001
Error: 0.0006718464000000028 Prediction: 0.8259200000000001
Error: 0.00024186470400000033 Prediction: 0.815552
Error: 8.70712934399997e-05 Prediction: 0.8093312
Error: 3.134566563839939e-05 Prediction: 0.80559872
Error: 1.1284439629823931e-05 Prediction: 0.803359232
Error: 4.062398266736526e-06 Prediction: 0.8020155392
Error: 1.4624633760252567e-06 Prediction: 0.8012093235200001
Error: 5.264868153690924e-07 Prediction: 0.8007255941120001
Error: 1.8953525353291194e-07 Prediction: 0.8004353564672001
Error: 6.82326912718715e-08 Prediction: 0.8002612138803201
Error: 2.456376885786678e-08 Prediction: 0.8001567283281921
Error: 8.842956788836216e-09 Prediction: 0.8000940369969153
Error: 3.1834644439835434e-09 Prediction: 0.8000564221981492
Error: 1.1460471998340758e-09 Prediction: 0.8000338533188895
Error: 4.125769919393652e-10 Prediction: 0.8000203119913337
Error: 1.485277170987127e-10 Prediction: 0.8000121871948003""".splitlines()

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

GRADIENT_LINE = re.compile(
    r"^Error: (?P<error>\S+) Prediction: (?P<prediction>\S+) Weight: (?P<weight>\S+)"
    r" Delta: (?P<delta>\S+) Weight Delta: (?P<weight_delta>\S+)$")
HOT_COLD_LINE = re.compile(
    r"^Error: (?P<error>\S+) Prediction: (?P<prediction>\S+) Weight: (?P<weight>\S+)"
    r" Up Error: (?P<up_error>\S+) Down Error: (?P<down_error>\S+)$")


def knobtui_run(*args: str) -> list[str]:
    """`python -m knobtui run ARGS` as a real process; its stdout lines (it must exit 0)."""
    proc = subprocess.run([sys.executable, "-m", "knobtui", "run", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout.splitlines()


def fields(line: str) -> dict[str, str]:
    """The named numbers of one text-format line, as the strings printed."""
    m = GRADIENT_LINE.match(line) or HOT_COLD_LINE.match(line)
    assert m, f"not a knobtui text line: {line!r}"
    return m.groupdict()


def starts_with_book(line: str, book: str) -> bool:
    """`line` begins with the book's words, and the book's last number is not cut off.

    The one exception is a book line the notes truncate mid-word (`... Predict`), which is a plain prefix.
    """
    if book.endswith("Predict"):
        return line.startswith(book)
    return line == book or line.startswith(book + " ")


def book_line(rec) -> str:
    """The book's own print for these loops: "Error: " + str(error) + " Prediction: " + str(pred)."""
    return "Error: " + str(rec.error) + " Prediction: " + str(rec.prediction)


def preset_session_records(name: str, steps: int | None = None) -> list:
    p = get_preset(name)
    s = Session(p.knobs, p.method)
    ran = s.run(p.book_steps if steps is None else steps)
    assert ran.stop == "limit"
    return list(s.records())


# ---------------------------------------------------------------------------------------------
# Toes: the first hot-and-cold comparison
# ---------------------------------------------------------------------------------------------

def test_toes_engine() -> None:
    # weight 0.1, input 8.5 toes, true 1 (won); lr 0.1 for the up comparison.
    rec = hot_cold_step(1, 0.1, 8.5, 1.0, 0.1)
    assert repr(rec.error) == TOES_ERROR
    assert repr(rec.up_error) == TOES_UP_ERROR
    # The book set lr = 0.01 before computing the down error.
    rec_dn = hot_cold_step(1, 0.1, 8.5, 1.0, 0.01)
    assert repr(rec_dn.error) == TOES_ERROR
    assert repr(rec_dn.down_error) == TOES_DOWN_ERROR


def test_toes_preset_session() -> None:
    p = get_preset("toes")
    assert (p.method, p.knobs.weight, p.knobs.input, p.knobs.goal, p.knobs.step_amount) == \
        ("hot-cold", 0.1, 8.5, 1.0, 0.1)
    s = Session(p.knobs, p.method)
    rec = s.step()
    assert repr(rec.error) == TOES_ERROR
    assert repr(rec.up_error) == TOES_UP_ERROR
    s.reset(p.knobs.with_values(step_amount=0.01))
    assert repr(s.step().down_error) == TOES_DOWN_ERROR


def test_toes_cli() -> None:
    lines = knobtui_run("--preset", "toes")
    assert len(lines) == 1
    f = fields(lines[0])
    assert f["error"] == TOES_ERROR
    assert f["up_error"] == TOES_UP_ERROR
    assert starts_with_book(lines[0], f"Error: {TOES_ERROR}")
    (line,) = knobtui_run("--preset", "toes", "--step-amount", "0.01")
    f = fields(line)
    assert f["error"] == TOES_ERROR
    assert f["down_error"] == TOES_DOWN_ERROR


# ---------------------------------------------------------------------------------------------
# Hot and cold: 1101 iterations
# ---------------------------------------------------------------------------------------------

def _book_hot_cold_lines_via_rule() -> list[str]:
    weight, my_input, goal, step_amount = 0.5, 0.5, 0.8, 0.001
    lines = []
    for i in range(1, HOT_COLD_ITERATIONS + 1):
        rec = hot_cold_step(i, weight, my_input, goal, step_amount)
        lines.append(book_line(rec))
        weight = rec.new_weight
    return lines


def _check_hot_cold(lines: list[str]) -> None:
    assert len(lines) == HOT_COLD_ITERATIONS
    for line, book in zip(lines, HOT_COLD_FIRST):
        assert starts_with_book(line, book), (line, book)
    assert starts_with_book(lines[-1], HOT_COLD_LAST), lines[-1]


def test_hot_cold_rule_loop() -> None:
    _check_hot_cold(_book_hot_cold_lines_via_rule())


def test_hot_cold_session() -> None:
    recs = preset_session_records("hot-cold")
    _check_hot_cold([book_line(r) for r in recs])
    assert [book_line(r) for r in recs] == _book_hot_cold_lines_via_rule()


def test_hot_cold_session_converges_at_1101() -> None:
    p = get_preset("hot-cold")
    s = Session(p.knobs, p.method)
    ff = s.fast_forward()
    assert (ff.steps, ff.stop) == (HOT_COLD_ITERATIONS, "converged")
    assert s.converged_at == HOT_COLD_ITERATIONS
    assert s.status.text == "converged at iteration 1101"
    assert starts_with_book(book_line(s.last_record), HOT_COLD_LAST)


def test_hot_cold_cli_prints_1101_lines_by_default() -> None:
    lines = knobtui_run("--preset", "hot-cold")
    _check_hot_cold(lines)
    for line in lines:
        fields(line)  # every line is a complete hot-cold line


def test_hot_cold_cli_until_converged_summary() -> None:
    (line,) = knobtui_run("--preset", "hot-cold", "--until-converged", "--format", "summary")
    assert line.startswith("1101 iterations of hot-cold: last error 1.0799505792475652e-27 "
                           "(prediction 0.7999999999999672)")
    assert line.endswith("converged at iteration 1101")


# ---------------------------------------------------------------------------------------------
# Gradient descent: direction and amount, 20 iterations
# ---------------------------------------------------------------------------------------------

def test_gradient_rule_loop() -> None:
    weight = 0.5
    got = []
    for i in range(1, 21):
        rec = gradient_step(i, weight, 0.5, 0.8, 1.0)
        got.append(book_line(rec))
        weight = rec.new_weight
    assert got == GRADIENT


def test_gradient_session() -> None:
    assert [book_line(r) for r in preset_session_records("gradient")] == GRADIENT


def test_gradient_cli() -> None:
    lines = knobtui_run("--preset", "gradient")
    assert len(lines) == len(GRADIENT)
    for line, book in zip(lines, GRADIENT):
        assert starts_with_book(line, book), (line, book)
    # The default preset is the gradient loop.
    assert knobtui_run() == lines


# ---------------------------------------------------------------------------------------------
# Direction and amount: pure error (delta) and direction_and_amount (weight_delta)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("test_input,w,book", DIRECTION_AND_AMOUNT)
def test_direction_and_amount_engine(test_input: int, w: float, book: tuple[str, str, str]) -> None:
    rec = gradient_step(1, w, test_input, 0.8, 1.0)
    assert ("Prediction: " + str(rec.prediction),
            "Pure error: " + str(rec.delta),
            "Direction and Amount: " + str(rec.weight_delta)) == book


def test_direction_and_amount_stopping_signs() -> None:
    rec = gradient_step(1, 0.5, 0, 0.8, 1.0)
    assert repr(rec.delta) == "-0.8"
    assert repr(rec.weight_delta) == "-0.0"  # a negative zero, as the book prints
    assert rec.new_weight == 0.5


@pytest.mark.parametrize("test_input,w,book", DIRECTION_AND_AMOUNT)
def test_direction_and_amount_cli(test_input: int, w: float, book: tuple[str, str, str]) -> None:
    (line,) = knobtui_run("--preset", "gradient", f"--input={test_input}", f"--weight={w}", "--steps", "1")
    f = fields(line)
    assert ("Prediction: " + f["prediction"],
            "Pure error: " + f["delta"],
            "Direction and Amount: " + f["weight_delta"]) == book


# ---------------------------------------------------------------------------------------------
# Learning is just reducing error: from weight 0, ten iterations with the new weight
# ---------------------------------------------------------------------------------------------

def _from_zero_line(rec) -> str:
    # The book prints the weight after the update: that is record.new_weight.
    return book_line(rec) + " Weight: " + str(rec.new_weight)


def test_from_zero_rule_loop() -> None:
    weight, got = 0.0, []
    for i in range(1, 11):
        rec = gradient_step(i, weight, 0.5, 0.8, 1.0)
        got.append(_from_zero_line(rec))
        weight = rec.new_weight
    assert got == FROM_ZERO


def test_from_zero_session() -> None:
    assert [_from_zero_line(r) for r in preset_session_records("from-zero")] == FROM_ZERO


def test_from_zero_cli() -> None:
    lines = knobtui_run("--preset", "from-zero")
    assert len(lines) == len(FROM_ZERO)
    for line, book in zip(lines, FROM_ZERO):
        assert starts_with_book(line, book), (line, book)


# ---------------------------------------------------------------------------------------------
# Watch four steps of learning
# ---------------------------------------------------------------------------------------------

def _watch_block(weight: str, error: str, prediction: str, delta: str, weight_delta: str) -> str:
    return ("-----\nWeight:" + weight + "\n"
            + "Error:" + error + " Prediction:" + prediction + "\n"
            + "Delta:" + delta + " Weight Delta:" + weight_delta + "\n")


def test_watch_four_rule_loop() -> None:
    weight, out = 0.0, ""
    for i in range(1, 5):
        rec = gradient_step(i, weight, 1.1, 0.8, 1.0)
        out += _watch_block(str(rec.weight), str(rec.error), str(rec.prediction), str(rec.delta),
                            str(rec.weight_delta))
        weight = rec.new_weight
    assert out == WATCH_FOUR


def test_watch_four_session() -> None:
    out = "".join(_watch_block(str(r.weight), str(r.error), str(r.prediction), str(r.delta),
                               str(r.weight_delta)) for r in preset_session_records("watch-four"))
    assert out == WATCH_FOUR


def test_watch_four_cli() -> None:
    text = knobtui_run("--preset", "watch-four")
    assert len(text) == 4
    # The text format prints the weight after each update; the weight each block starts from is in CSV.
    rows = list(csv.DictReader(io.StringIO("\n".join(knobtui_run("--preset", "watch-four", "--format", "csv")))))
    out = ""
    for line, row in zip(text, rows, strict=True):
        f = fields(line)
        assert f["weight"] == row["new_weight"]
        out += _watch_block(row["weight"], f["error"], f["prediction"], f["delta"], f["weight_delta"])
    assert out == WATCH_FOUR


# ---------------------------------------------------------------------------------------------
# Divergence, and alpha taming it
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,book", [("divergence", DIVERGENCE), ("alpha", ALPHA)])
def test_divergence_and_alpha_rule_loop(name: str, book: list[str]) -> None:
    # weight = weight - alpha * derivative, derivative = my_input * (pred - goal_pred)
    alpha = {"divergence": 1.0, "alpha": 0.1}[name]
    weight, got = 0.5, []
    for i in range(1, 21):
        rec = gradient_step(i, weight, 2.0, 0.8, alpha)
        got.append(book_line(rec))
        weight = rec.new_weight
    assert got == book


@pytest.mark.parametrize("name,book", [("divergence", DIVERGENCE), ("alpha", ALPHA)])
def test_divergence_and_alpha_session(name: str, book: list[str]) -> None:
    assert [book_line(r) for r in preset_session_records(name)] == book


@pytest.mark.parametrize("name,book", [("divergence", DIVERGENCE), ("alpha", ALPHA)])
def test_divergence_and_alpha_cli(name: str, book: list[str]) -> None:
    lines = knobtui_run("--preset", name)
    assert len(lines) == len(book)
    for line, b in zip(lines, book):
        assert starts_with_book(line, b), (line, b)


# ---------------------------------------------------------------------------------------------
# The book's own loops, run literally, agree with the literal data above (guards the test data)
# ---------------------------------------------------------------------------------------------

def test_literal_data_matches_the_books_code() -> None:
    weight, goal, my_input, out = 0.5, 0.8, 0.5, []
    for _ in range(20):
        pred = my_input * weight
        error = (pred - goal) ** 2
        weight = weight - (pred - goal) * my_input
        out.append("Error: " + str(error) + " Prediction: " + str(pred))
    assert out == GRADIENT


# ---------------------------------------------------------------------------------------------
# `knobtui run --format book`: what the book's own code prints, byte for byte, by default length
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,book", [
    ("toes", [TOES_ERROR, TOES_UP_ERROR, TOES_DOWN_ERROR]),
    ("gradient", GRADIENT),
    ("from-zero", FROM_ZERO),
    ("watch-four", WATCH_FOUR.splitlines()),
    ("divergence", DIVERGENCE),
    ("alpha", ALPHA),
    ("stopping", list(DIRECTION_AND_AMOUNT[4][2])),
    ("negative", list(DIRECTION_AND_AMOUNT[2][2])),
    ("scaling", list(DIRECTION_AND_AMOUNT[5][2])),
])
def test_format_book_is_the_books_output(name: str, book: list[str]) -> None:
    """Diff it against the page: the same lines, the same spacing, as many as the book's loop prints."""
    assert knobtui_run("--preset", name, "--format", "book") == book


def test_format_book_hot_cold_1101_lines() -> None:
    lines = knobtui_run("--preset", "hot-cold", "--format", "book")
    assert len(lines) == HOT_COLD_ITERATIONS
    assert lines[:5] == HOT_COLD_FIRST[:5] and lines[5].startswith(HOT_COLD_FIRST[5])
    assert lines[-1] == HOT_COLD_LAST
