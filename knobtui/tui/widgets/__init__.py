"""One file per widget; each renders a `View` it is given."""

from .arithmetic import Arithmetic
from .error_plot import ErrorPlot
from .iteration_log import IterationLog
from .knob_panel import KnobPanel
from .lesson_panel import LessonPanel
from .status_bar import StatusBar

__all__ = ["Arithmetic", "ErrorPlot", "IterationLog", "KnobPanel", "LessonPanel", "StatusBar"]
