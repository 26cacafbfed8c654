"""Where ONLIVE.SITE state lives: `base.OnliveStore` is the interface, `memory` and `sql` the backends."""
