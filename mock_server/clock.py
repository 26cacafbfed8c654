"""The mock's clock: one place that says what time it is, so it can later be frozen or shifted."""

from datetime import UTC, datetime, timedelta

TICK = timedelta(microseconds=1)


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_after(self, previous: datetime) -> datetime:
        """A record's new `updatedAt`: now, but strictly after the last one even if the clock stood still (B5)."""
        return max(self.now(), previous + TICK)
