"""Error tree: every expected failure is a GvcodecError, turned into one stderr line by the CLI."""


class GvcodecError(Exception):
    """Base of all expected failures; `exit_code` is what the process returns."""

    exit_code = 1


class OptionError(GvcodecError):
    """Bad command line or cfg file."""


class InputError(GvcodecError):
    """Missing, unreadable or malformed input media."""


class OutputError(GvcodecError):
    """An output file cannot be written."""


class BitstreamError(GvcodecError):
    """A .gvc stream is truncated, corrupted or beyond sane limits."""

    exit_code = 2


class MismatchError(GvcodecError):
    """Decoded pictures or symbols do not match the hashes carried in the stream."""

    exit_code = 3


class ModelError(GvcodecError):
    """Unknown model, wrong weights or engine failure."""
