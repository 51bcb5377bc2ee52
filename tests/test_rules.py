"""Unit tests of knobtui/learning/rules.py: a step that would not be finite raises in the rules, not in a Session."""

from __future__ import annotations

import pytest

from knobtui.learning import Knobs, Session, gradient_step, hot_cold_step
from knobtui.learning.rules import NonFinite


def test_step_raises_nonfinite_in_rules_not_in_session() -> None:
    with pytest.raises(NonFinite):
        gradient_step(1, 1e200, 1e200, 0.0, 1.0)
    with pytest.raises(NonFinite):
        hot_cold_step(1, 1.7e308, 1.0, 0.0, 1.7e308)
    s = Session(Knobs(weight=1.7e308, input=1.0, goal=0.0, step_amount=1.7e308), "hot-cold")
    assert s.step() is None
    assert s.status.kind == "overflow"
