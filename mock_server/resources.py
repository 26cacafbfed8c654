"""Where the project's data files live (the mock runs from an editable install or the source tree)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = PROJECT_ROOT / "openapi.yaml"
DEFAULT_FIXTURES = PROJECT_ROOT / "fixtures" / "default.yaml"
WORLD_SCHEMA = Path(__file__).resolve().parent / "world.schema.yaml"
ADMIN_SPEC_PATH = Path(__file__).resolve().parent / "admin.yaml"
