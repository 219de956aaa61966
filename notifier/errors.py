"""Errors that end a command with one readable line instead of a traceback."""


class NotifierError(Exception):
    """Base of the service's own errors."""


class StartupError(NotifierError):
    """A mode cannot start: bad settings or an unreachable dependency."""


class SettingsError(StartupError):
    """A setting has a bad value."""
