"""Where the mock's own files live; the project's (spec, default world) are in bookingkit.files."""

from pathlib import Path

WORLD_SCHEMA = Path(__file__).resolve().parent / "world.schema.yaml"
ADMIN_SPEC_PATH = Path(__file__).resolve().parent / "admin.yaml"
