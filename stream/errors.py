"""The one exception type for problems the user can fix (bad paths, bad options, unusable input)."""


class SwapcamError(Exception):
    """A user-facing error: the message says what was expected and what was received.

    The CLI prints the message on one line and exits non-zero, without a traceback.
    """
