"""Failover: circuit breakers for the user directory and each channel's provider (``docs/failover.md``)."""

from notifier.resilience.breaker import BreakerChange, BreakerPolicy, CircuitBreaker
from notifier.resilience.guards import (
    DirectoryCircuitOpenError,
    Guard,
    GuardedChannel,
    GuardedDirectory,
    guard_channel,
)
from notifier.resilience.recording import BreakerRecorder
from notifier.resilience.switch import QueueSwitch, Route

__all__ = [
    'BreakerChange',
    'BreakerPolicy',
    'BreakerRecorder',
    'CircuitBreaker',
    'DirectoryCircuitOpenError',
    'Guard',
    'GuardedChannel',
    'GuardedDirectory',
    'QueueSwitch',
    'Route',
    'guard_channel',
]
