"""Exceptions of the dev stack (kept apart so devstack.postgres and devstack.stack share them)."""


class DevstackError(RuntimeError):
    """A dev stack operation failed; the message says what to do."""


class NodeMissingError(DevstackError):
    """Node.js/npm is missing or too old (tests skip or fail on this)."""
