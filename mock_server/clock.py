"""The mock's clock: one place that says what time it is, so it can later be frozen or shifted."""

from datetime import UTC, datetime


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)
