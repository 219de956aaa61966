"""``make bench``: throughput, memory and rate-limit figures on this machine (not tests)."""
