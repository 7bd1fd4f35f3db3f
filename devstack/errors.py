"""Exceptions of the dev stack (kept apart so its modules share them without cycles)."""


class DevstackError(RuntimeError):
    """A dev stack operation failed; the message says what to do."""


class NodeMissingError(DevstackError):
    """Node.js/npm is missing or too old (tests skip or fail on this)."""


class PostgresError(DevstackError):
    """Raised when the PostgreSQL server cannot be set up, started or queried."""
