"""Errors whose message is meant for the user, shown as one line instead of a traceback."""


class StudioError(Exception):
    """Bad input or an environment problem, explained in plain words."""
