"""Errors raised for bad user input: one line naming the file and the key."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a user file or the command line.

    Rendered as ``FILE: key.path: what is wrong (got VALUE)``; the CLI prefixes
    ``error: `` and exits with status 2.
    """

    def __init__(self, file: str, key: str, message: str, got: object = None, *, show_got: bool = True):
        self.file = str(file)
        self.key = key
        self.message = message
        self.got = got
        self.show_got = show_got and got is not None
        super().__init__(self.line())

    def line(self) -> str:
        parts = [self.file]
        if self.key:
            parts.append(self.key)
        text = ": ".join(parts) + ": " + self.message
        if self.show_got:
            got = repr(self.got) if not isinstance(self.got, str) else self.got
            if len(got) > 80:
                got = got[:77] + "..."
            text += f" (got {got})"
        return " ".join(text.split())  # always one line


class PartError(ValueError):
    """A schema check's complaint about one part of a value (a year of a time path): ``got`` is
    that part, shown instead of the whole value (``2016: must be a finite number (got nan)``)."""

    def __init__(self, message: str, got: object):
        super().__init__(message)
        self.got = got
