"""`bookingkit mock --watch`: the world file is reloaded when it changes, as `PUT /__admin/fixtures` would load it.

- The file's directory is watched (not the file): an editor's or a tool's rename-replace swaps the inode, and a
  watch on the old inode would go deaf after the first reload.
- A change is read only once it has settled: watchfiles groups events until none came for SETTLE_MS, and then the
  file's size and mtime must stay the same over one more SETTLE_MS, so a two-step write is never read half-way.
- A bad file (YAML, schema, reference or rule) is refused with the loader's message on one log line, and the
  running state stays; the next change is read again. Content identical to the last one read is no change.
- One process reloads: the app's lifespan task with one process, the parent's thread with `--workers` (the
  workers share the SQL store and see the new world through it).
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import watchfiles
import yaml

from bookingkit.documents import parse
from mock_server.world import World, WorldError, build_world

log = logging.getLogger("bookingkit.watch")

SETTLE_MS = 200  # quiet time before a change is read
LONGEST_WRITE_SECONDS = 10  # a file still changing after this is read anyway (a bad read is refused, not loaded)
SUMMARY = (
    ("courts", "courts"),
    ("courtBookings", "court bookings"),
    ("users", "users"),
    ("organizations", "organizations"),
)


class WorldWatcher:
    """Reads the watched file and decides whether it is a new world; the state changes only in `adopt`."""

    def __init__(self, runtime: Any, path: Path) -> None:
        self.runtime = runtime
        self.path = Path(os.path.abspath(path))
        self._last = self._digest()  # what the app loaded at start (near enough: read just after)
        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # its "1 change detected" says less than ours

    def _digest(self) -> bytes | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).digest()
        except OSError:
            return None

    def settled(self) -> None:
        """Wait until size and mtime stay put for SETTLE_MS (a slow writer may pause longer than watchfiles' step)."""
        deadline = time.monotonic() + LONGEST_WRITE_SECONDS
        before = _signature(self.path)
        while time.monotonic() < deadline:
            time.sleep(SETTLE_MS / 1000)
            now = _signature(self.path)
            if now == before:
                return
            before = now

    def build(self) -> tuple[World, dict[str, Any]] | None:
        """The new world and its document, None when the content is what was read last; raises WorldError.
        Blocking (read, parse, check): run it off the event loop."""
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise WorldError(f"{self.path}: cannot read the world file ({exc.strerror})") from None
        digest = hashlib.sha256(raw).digest()
        if digest == self._last:
            return None
        self._last = digest  # a bad file read once is not read again until it changes
        try:
            document = parse(raw.decode("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise WorldError(f"{self.path}: not valid YAML or JSON ({exc})") from None
        # consume=False: the document stays whole, as the world `POST /__admin/reset` goes back to
        return build_world(document, self.path, self.runtime.spec), document

    def adopt(self, world: World, document: dict[str, Any]) -> None:
        self.runtime.adopt_world(world, document)
        log.info("reloaded world from %s: %s", self.path, summary(document))

    def refused(self, exc: WorldError) -> None:
        log.error("world file not reloaded, the state stays as it was: %s", " | ".join(str(exc).splitlines()))

    def relevant(self, change: watchfiles.Change, changed: str) -> bool:
        return os.path.basename(changed) == self.path.name

    def watch_options(self) -> dict[str, Any]:
        return {
            "watch_filter": self.relevant,
            "step": SETTLE_MS,
            "debounce": LONGEST_WRITE_SECONDS * 1000,
            "recursive": False,  # only the file's own directory: a project root may hold .venv and more
        }


def summary(document: dict[str, Any]) -> str:
    onlive = document.get("onlive") or {}
    parts = [f"{len(document.get(key) or [])} {name}" for key, name in SUMMARY]
    parts.append(f"{len(onlive.get('services') or [])} ONLIVE.SITE services")
    parts.append(f"{len(onlive.get('appointments') or [])} appointments")
    return ", ".join(parts)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


async def _watch_async(watcher: WorldWatcher, stop: asyncio.Event) -> None:
    async for _ in watchfiles.awatch(watcher.path.parent, stop_event=stop, **watcher.watch_options()):
        try:
            await asyncio.to_thread(watcher.settled)
            built = await asyncio.to_thread(watcher.build)  # parsing and the rules replay run beside requests
        except WorldError as exc:
            watcher.refused(exc)
            continue
        except Exception:  # a bug or a store error must not end the watch for good
            log.exception("world file not reloaded, the state stays as it was: %s", watcher.path)
            continue
        if built is not None:
            try:
                watcher.adopt(*built)  # on the loop: no request sees half of the swap
            except Exception:
                log.exception("world file read but not adopted: %s", watcher.path)


@contextlib.asynccontextmanager
async def watching(runtime: Any, path: Path | None) -> AsyncIterator[None]:
    """For the app's lifespan: a task that reloads `path` while the app serves (nothing when `path` is None)."""
    if path is None:
        yield
        return
    watcher = WorldWatcher(runtime, path)
    stop = asyncio.Event()
    task = asyncio.create_task(_watch_async(watcher, stop), name="bookingkit-watch")
    log.info("watching %s: the world is reloaded when it changes", watcher.path)
    try:
        yield
    finally:
        stop.set()  # the watcher thread sees it within one step; cancel if it is stuck in a long build
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=2)


def watch_in_thread(runtime: Any, path: Path) -> tuple[threading.Event, threading.Thread]:
    """For the parent of several workers (no event loop there): the parent alone reloads into the shared store,
    so N workers never reset N times. Set the event to stop."""
    watcher = WorldWatcher(runtime, path)
    stop = threading.Event()

    def run() -> None:
        options = watcher.watch_options()
        for _ in watchfiles.watch(watcher.path.parent, stop_event=stop, raise_interrupt=False, **options):
            try:
                watcher.settled()
                built = watcher.build()
            except WorldError as exc:
                watcher.refused(exc)
                continue
            if built is not None:
                try:
                    watcher.adopt(*built)
                except Exception:  # the store failed (e.g. the database went away): say so and keep watching
                    log.exception("world file %s could not be stored", watcher.path)

    thread = threading.Thread(target=run, name="bookingkit-watch", daemon=True)
    thread.start()
    log.info("watching %s: the world is reloaded when it changes", watcher.path)
    return stop, thread
