"""Where the mock's files live: the project's own (see bookingkit.files) and the mock's private ones."""

from pathlib import Path

from bookingkit.files import DEFAULT_WORLD as DEFAULT_FIXTURES
from bookingkit.files import SPEC_PATH

__all__ = ["ADMIN_SPEC_PATH", "DEFAULT_FIXTURES", "SPEC_PATH", "WORLD_SCHEMA"]

WORLD_SCHEMA = Path(__file__).resolve().parent / "world.schema.yaml"
ADMIN_SPEC_PATH = Path(__file__).resolve().parent / "admin.yaml"
