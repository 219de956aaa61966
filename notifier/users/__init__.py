"""The user directory: a port (:class:`UserDirectory`) and its local and HTTP adapters."""

from notifier.users.directory import (
    DirectoryUnavailableError,
    UserDirectory,
    UserPage,
    UserProfile,
)
from notifier.users.http import HttpUserDirectory
from notifier.users.local import LocalUserDirectory

__all__ = [
    'DirectoryUnavailableError',
    'HttpUserDirectory',
    'LocalUserDirectory',
    'UserDirectory',
    'UserPage',
    'UserProfile',
]
