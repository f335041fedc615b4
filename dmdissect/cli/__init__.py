"""The ``dmdissect`` command line: thin click commands that wire the stages together.

Each command lives in its own module; this package only assembles the group.
"""

from dmdissect.cli.main import main

__all__ = ["main"]
