"""Where the mock keeps its state: `Store` is the interface, `MemoryStore` the one backend so far."""

from .base import OnliveStore, Store
from .memory import MemoryStore
from .onlive_memory import OnliveMemoryStore

__all__ = ["MemoryStore", "OnliveMemoryStore", "OnliveStore", "Store"]
