"""What the pipeline tells those who watch it (metrics, today): hooks it calls as a message
passes through. Nothing handed to a hook identifies a patient: channel names, counts,
durations and reasons only."""
from __future__ import annotations

from typing import Protocol


class PipelineObserver(Protocol):
    """Hooks the pipeline calls; they must be quick, and a failing one is logged, never
    allowed to stop a reply (Pipeline.notify)."""

    def received(self, channel: str) -> None:
        """A new inbound message was stored (not a retried one)."""

    def sent(self, channel: str, parts: int) -> None:
        """One deliver call sent `parts` parts that went out."""

    def assistant_answered(self, seconds: float) -> None:
        """Rasa answered one message after `seconds`."""

    def assistant_failed(self, seconds: float) -> None:
        """Rasa could not be reached or timed out after `seconds`."""

    def escalated(self, reason: str) -> None:
        """A conversation was queued for a representative."""
