"""`python -m knobtui`: the same as the `knobtui` command."""

from .cli import entry

if __name__ == "__main__":
    entry()
