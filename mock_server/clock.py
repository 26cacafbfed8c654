"""The mock's clock: one place that says what time it is, so the admin API can freeze or shift it.

It drives createdAt/updatedAt, the 15-minute window of signed requests, and which appointments are active.
"""

from datetime import UTC, datetime, timedelta

TICK = timedelta(microseconds=1)


class Clock:
    def __init__(self) -> None:
        self._frozen_at: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._frozen_at if self._frozen_at is not None else datetime.now(UTC) + self._offset

    def now_after(self, previous: datetime) -> datetime:
        """A record's new `updatedAt`: now, but strictly after the last one even if the clock stood still (B5)."""
        return max(self.now(), previous + TICK)

    def freeze(self, at: datetime | None = None) -> None:
        self._frozen_at = at or self.now()

    def shift(self, delta: timedelta) -> None:
        if self._frozen_at is not None:
            self._frozen_at += delta
        else:
            self._offset += delta

    def run(self) -> None:
        """Let time pass again, from the instant it shows now."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - datetime.now(UTC)
            self._frozen_at = None

    def reset(self) -> None:
        """Back to the machine's time."""
        self._frozen_at, self._offset = None, timedelta(0)

    def state(self) -> tuple[datetime | None, timedelta]:
        """What another process needs to show the same time: the instant it stands at, or the offset."""
        return self._frozen_at, self._offset

    def restore(self, frozen_at: datetime | None, offset: timedelta) -> None:
        self._frozen_at, self._offset = frozen_at, offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    @property
    def offset(self) -> timedelta:
        return (self._frozen_at - datetime.now(UTC)) if self._frozen_at is not None else self._offset
