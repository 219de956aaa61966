"""Fault-injection suite: kill things, then prove nothing was lost and nothing was sent twice."""
