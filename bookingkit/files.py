"""The project's own files, found the same way from a source tree, an editable install or a wheel.

They live at the top of the repository, where spec authors edit them (openapi.yaml is the single source of
truth); `bookingkit/data/` holds symlinks to them, which a wheel build turns into copies, so that an installed
`bookingkit mock` or `bookingkit test` finds them too.
"""

from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"

SPEC_PATH = (_DATA / "openapi.yaml").resolve()
SCHEMATHESIS_CONFIG = (_DATA / "schemathesis.toml").resolve()
DEFAULT_WORLD = (_DATA / "default-world.yaml").resolve()
RULE_CATALOGUE = (_DATA / "rules.md").resolve()
