"""Notifier: the notification service of the online cinema."""
