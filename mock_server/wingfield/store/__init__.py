"""Where Wingfield state lives: `base.Store` is the interface, `memory` and `sql` the backends."""
