"""Push channel plugin for notifier (stub provider)."""
