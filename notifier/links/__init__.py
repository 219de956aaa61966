"""The URL shortener: codes, the target allowlist, and the short links' storage.

Importing it registers the models with SQLAlchemy's metadata.
"""

from notifier.models.short_link import LinkClick, ShortLink

__all__ = ['LinkClick', 'ShortLink']
