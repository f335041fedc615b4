"""The one exception a source raises for input it cannot read at all."""


class InputError(Exception):
    """Unreadable input: the CLI prints the message on one line and exits 2.

    Raised only when nothing more can be read; frames already yielded stay
    valid, so every whole message before a torn record is still shown.
    """
