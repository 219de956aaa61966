"""SMS channel plugin for notifier (stub provider)."""
