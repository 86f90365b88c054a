"""Errors the domain raises; the CLI and the web turn each into a one-line message or a 4xx."""


class ArchiveError(Exception):
    """Base class: the message is meant for the person at the keyboard."""


class UnsupportedMedia(ArchiveError):
    """A file that is not a recording we can decode (empty, corrupt, truncated, no audio)."""


class DecodeFailed(ArchiveError):
    """The decoder crashed, hung or ran out of memory in its child process."""


class ModelUnavailable(ArchiveError):
    """A speech model that cannot be found locally nor downloaded."""


class NotFound(ArchiveError):
    """A meeting, recording or other object named by the user does not exist."""


class IndexUnavailable(ArchiveError):
    """The search index is missing or cannot be read: derived data, rebuilt by `testimony reindex`."""

    def __init__(self, message: str = "The search index cannot be read: run `testimony reindex`.") -> None:
        super().__init__(message)


class IndexMissing(IndexUnavailable):
    """There is no search index (right for an archive with nothing indexed yet; else it was lost)."""

    def __init__(self, message: str = "The search index is missing: run `testimony reindex`.") -> None:
        super().__init__(message)


class InvalidInput(ArchiveError):
    """An argument or form value that cannot be accepted as given."""
