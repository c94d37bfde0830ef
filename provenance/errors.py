"""One exception hierarchy, mapped to exit codes in one place (`provenance.cli`).

Every message quotes the bad value and says what to do next, e.g.::

    raise BadInputError(f"{path}: not a video or image ffprobe can read; "
                        "check that the download finished")
"""

from __future__ import annotations

#: Exit codes (STYLE.md): 0 the command did its job whatever the verdict, 1 a processing failure,
#: 2 bad input or usage, 3 a missing tool or an unusable index (docs/cli.md).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


class ProvenanceError(Exception):
    """Base of every error the tool raises on purpose; carries its exit code."""

    exit_code = EXIT_FAILURE


class ProcessingError(ProvenanceError):
    """The input looked valid but processing it failed (exit 1)."""

    exit_code = EXIT_FAILURE


class BadInputError(ProvenanceError):
    """A file, option or document given by the user cannot be used (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class ToolMissingError(ProvenanceError):
    """An external program (ffmpeg, ffprobe) is missing or unusable (exit 3)."""

    exit_code = EXIT_UNAVAILABLE


class IndexUnavailableError(ProvenanceError):
    """The reference index cannot be opened, is damaged or has another schema (exit 3)."""

    exit_code = EXIT_UNAVAILABLE


class NotFoundError(BadInputError):
    """A reference named by the user is not in the index (exit 2)."""
