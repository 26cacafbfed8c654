"""The shared store core: a backend runs each request as one transaction over both APIs' stores (memory or SQL)."""
