"""knobtui: a terminal simulator of how one weight learns (Grokking Deep Learning, chapter 4)."""

__version__ = "0.1.0"
