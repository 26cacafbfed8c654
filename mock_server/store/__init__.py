"""Where the mock keeps its state: `Store` is the interface, `MemoryStore` the one backend so far."""

from .base import Store
from .memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
