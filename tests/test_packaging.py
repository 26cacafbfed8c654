"""An installed bookingkit (a wheel, not the source tree) carries the project files it runs on.

`bookingkit mock` and `bookingkit test` read openapi.yaml, the default world and schemathesis.toml; a CI
pipeline that installs the package with pip has no source tree to find them in.
"""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from bookingkit import files

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "openapi.yaml", "schemathesis.toml", "fixtures", "docs")
PACKAGES = ("bookingkit", "mock_server", "contract_tests")
SHIPPED = {
    "bookingkit/data/openapi.yaml": ROOT / "openapi.yaml",
    "bookingkit/data/schemathesis.toml": ROOT / "schemathesis.toml",
    "bookingkit/data/default-world.yaml": ROOT / "fixtures" / "default.yaml",
    "bookingkit/data/rules.md": ROOT / "docs" / "rules.md",
    "mock_server/world.schema.yaml": ROOT / "mock_server" / "world.schema.yaml",
    "mock_server/admin.yaml": ROOT / "mock_server" / "admin.yaml",
    "mock_server/docs_page/index.j2": ROOT / "mock_server" / "docs_page" / "index.j2",
    "mock_server/docs_page/onlive-signing.js": ROOT / "mock_server" / "docs_page" / "onlive-signing.js",
    "contract_tests/targets/mock.yaml": ROOT / "contract_tests" / "targets" / "mock.yaml",
}


def test_the_source_tree_reads_the_top_level_files():
    assert files.SPEC_PATH == ROOT / "openapi.yaml"
    assert files.SCHEMATHESIS_CONFIG == ROOT / "schemathesis.toml"
    assert files.DEFAULT_WORLD == ROOT / "fixtures" / "default.yaml"
    assert files.RULE_CATALOGUE == ROOT / "docs" / "rules.md"


def test_the_wheel_ships_the_project_files(tmp_path):
    source = tmp_path / "src"  # a copy, so the build leaves no build/ or egg-info in the tree
    source.mkdir()
    for name in SOURCES + PACKAGES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = tmp_path.glob("bookingkit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for member, original in SHIPPED.items():
            assert archive.read(member) == original.read_bytes(), member
