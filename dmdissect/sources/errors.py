"""The one exception a source raises for input it cannot read at all."""


class InputError(Exception):
    """Unreadable input: the CLI prints the message on one line and exits 2.

    Raised only when nothing more can be read; frames already yielded stay
    valid, so every whole message before a torn record is still shown.
    """


class TornInput(InputError):
    """An input broken part-way (a record cut short, a lying length): reading stopped there.

    Everything before the damage was read and is valid, so a conversion keeps it
    (as editcap does); any other InputError leaves no output at all.
    """
