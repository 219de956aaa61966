"""Email channel plugin for notifier."""
