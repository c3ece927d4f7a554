"""Errors whose messages are safe to show users, kept apart from crashes."""


class LumenError(Exception):
    """An expected failure; its message is written for the person who will read it."""


class ConfigError(LumenError):
    """lumen.yml or the environment is wrong; the message names the file and field."""


class NotFound(LumenError):
    """The thing asked for does not exist."""
