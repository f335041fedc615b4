"""``python -m dmdissect``: the same as the ``dmdissect`` command."""

from dmdissect.cli import main

if __name__ == "__main__":
    main(prog_name="dmdissect")
