"""The ``notifier`` command: ``run api|consume|schedule|all``, ``db``, ``plugins``."""

from notifier.cli.main import main

__all__ = ['main']
