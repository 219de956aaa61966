"""Delivery channels: the public surface plugins build on, and the built-in channels."""
