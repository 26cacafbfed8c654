"""Where the whole state lives: a backend holds both APIs' stores and what the control plane shares.

`memory` (one process, the fastest) keeps everything in this process. A SQL backend (SQLite or PostgreSQL,
mock_server/store/sql.py) keeps it in a database, so any number of worker processes, on one host or many, see
one state: the data, and the control state (clock, faults, the world to reset to, the request journal).
"""

import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol, TypeVar

from mock_server.onlive.store.base import OnliveStore
from mock_server.onlive.store.memory import OnliveMemoryStore
from mock_server.wingfield.store.base import Store
from mock_server.wingfield.store.memory import MemoryStore

T = TypeVar("T")
JOURNAL_SIZE = 1000


class StoreError(Exception):
    """A store that cannot be opened: a bad URL, a database that cannot be reached; the message says which."""


class Backend(Protocol):
    wingfield: Store
    onlive: OnliveStore
    shared: bool  # True when other processes may change the state: control state is then read per request

    async def run(self, call: Callable[[], Awaitable[T]], *, write: bool) -> T:
        """Run `call` (a request's rules, no await inside but the call itself) as one atomic transaction; a SQL
        backend retries it when the database reports a conflict with a concurrent transaction."""
        ...

    def adopt(self, wingfield: MemoryStore, onlive: OnliveMemoryStore) -> None:
        """Replace the whole state with these stores' contents, atomically."""
        ...

    def seeded(self) -> bool:
        """Whether the state holds a world (a SQL database survives restarts; memory never does)."""
        ...

    def control(self, key: str) -> Any:
        """A control value (JSON): `clock`, `faults`, `world`; None when never set."""
        ...

    def set_control(self, values: dict[str, Any]) -> None: ...

    def control_version(self) -> int:
        """Grows with every `set_control` and `adopt`: a worker re-reads the control values when it changes."""
        ...

    def journal_append(self, entry: dict[str, Any]) -> None: ...
    def journal_last(self, limit: int) -> list[dict[str, Any]]: ...
    def journal_clear(self) -> None: ...
    def close(self) -> None: ...


class MemoryBackend:
    """Everything in this process; `run` needs no transaction, since the rules never await."""

    shared = False

    def __init__(self) -> None:
        self.wingfield = MemoryStore()
        self.onlive = OnliveMemoryStore()
        self._control: dict[str, Any] = {}
        self._version = 0
        self._journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_SIZE)
        self._seeded = False

    async def run(self, call: Callable[[], Awaitable[T]], *, write: bool) -> T:
        return await call()

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        yield

    def adopt(self, wingfield: MemoryStore, onlive: OnliveMemoryStore) -> None:
        self.wingfield.adopt(wingfield)
        self.onlive.adopt(onlive)
        self._seeded = True
        self._version += 1

    def seeded(self) -> bool:
        return self._seeded

    def control(self, key: str) -> Any:
        return self._control.get(key)

    def set_control(self, values: dict[str, Any]) -> None:
        self._control.update(values)
        self._version += 1

    def control_version(self) -> int:
        return self._version

    def journal_append(self, entry: dict[str, Any]) -> None:
        self._journal.append(entry)

    def journal_last(self, limit: int) -> list[dict[str, Any]]:
        return list(self._journal)[-limit:][::-1]  # newest first

    def journal_clear(self) -> None:
        self._journal.clear()

    def close(self) -> None:
        pass


def open_backend(url: str) -> Backend:
    """`memory`, `sqlite:///path.db` or `postgresql://user@host/db`; raises StoreError naming the URL."""
    if url == "memory":
        return MemoryBackend()
    if url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        from sqlalchemy.exc import SQLAlchemyError

        from mock_server.store.sql import SqlBackend

        try:
            return SqlBackend(url)
        except SQLAlchemyError as exc:
            raise StoreError(f"--store {url}: cannot open the database ({exc.__class__.__name__}: {exc})") from None
    raise StoreError(f"--store {url!r}: use memory, sqlite:///path.db or postgresql://user@host/database")
