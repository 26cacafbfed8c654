"""The served specs are the files' documents, `$ref`s and components kept (issue 14, item 3).

connexion serves its resolved copy (every `$ref` inlined); a client generator pointed at it makes a model per
inlined schema (983 modules for openapi.yaml against 325 from the file). The mock serves the parsed file as JSON;
the one change is connexion's: `servers` is `[{"url": <root path><base path>}]`, the file's own for both files
unless a proxy adds a root path.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bookingkit.files import SPEC_PATH
from mock_server.app import create_app
from mock_server.resources import ADMIN_SPEC_PATH
from mock_server.spec import load_spec

from .live import running_mock

ROOT = Path(__file__).resolve().parent.parent
SPECS = {"/api/v1": SPEC_PATH, "/__admin": ADMIN_SPEC_PATH}


def _as_served(path: Path, root_path: str, base_path: str) -> dict:
    """The file's document with the one documented change: connexion's `servers` for the base path."""
    return {**load_spec(path), "servers": [{"url": root_path + base_path}]}


@pytest.fixture(scope="module")
def client():
    with create_app().test_client() as test_client:
        yield test_client


@pytest.mark.parametrize("base_path", SPECS)
def test_the_served_spec_is_the_file(client, base_path):
    answer = client.get(f"{base_path}/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    served = answer.json()
    assert served == load_spec(SPECS[base_path])  # servers included: the files name the base path
    assert '"$ref"' in answer.text and served["components"]["schemas"]


@pytest.mark.parametrize("base_path", SPECS)
def test_behind_a_proxy_only_servers_carries_the_root_path(base_path):
    with create_app().test_client(root_path="/proxy") as proxied:
        answer = proxied.get(f"/proxy{base_path}/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == _as_served(SPECS[base_path], "/proxy", base_path)


def test_the_docs_page_reads_the_served_spec(client):
    page = client.get("/api/v1/ui/")
    assert page.status_code == 200 and 'url: "/api/v1/openapi.json"' in page.text


# openapi-python-client on the served spec and on the file: the same model modules, byte for byte.


def _models(output: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((output / "models").glob("*.py"))}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[tuple[str, str], tuple[subprocess.CompletedProcess, dict[str, str]]]:
    """Clients generated, in parallel, from each file and from each spec served by a running mock."""
    pytest.importorskip(
        "openapi_python_client", reason="openapi-python-client is not installed (pip install -e '.[test]')"
    )
    folder = tmp_path_factory.mktemp("generated")
    config = folder / "config.yaml"
    config.write_text("post_hooks: []\n")  # no ruff run over the output: faster, and the comparison is the same
    with running_mock(folder / "mock.log") as url:
        runs = {}
        for base_path, path in SPECS.items():
            for origin, source in (
                ("file", ["--path", str(path)]),
                ("served", ["--url", f"{url}{base_path}/openapi.json"]),
            ):
                output = folder / f"{base_path.strip('/_').replace('/', '-')}-{origin}"
                command = [sys.executable, "-m", "openapi_python_client", "generate", *source]
                command += ["--output-path", str(output), "--meta", "none", "--config", str(config)]
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                runs[base_path, origin] = (process, output)
        results = {}
        try:
            for key, (process, output) in runs.items():
                text, _ = process.communicate(timeout=300)
                results[key] = (subprocess.CompletedProcess(process.args, process.returncode, text), output)
        finally:
            for process, _ in runs.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
    return {key: (done, _models(output)) for key, (done, output) in results.items()}


@pytest.mark.parametrize("base_path", SPECS)
def test_a_client_generated_from_the_served_spec_has_the_files_models(generated, base_path):
    from_file, file_models = generated[base_path, "file"]
    from_served, served_models = generated[base_path, "served"]
    assert from_file.returncode == 0, from_file.stdout[-3000:]
    assert from_served.returncode == 0, from_served.stdout[-3000:]
    classes = set(re.findall(r"^class (\w+)", "\n".join(file_models.values()), re.MULTILINE))
    schemas = load_spec(SPECS[base_path])["components"]["schemas"]
    assert sum(name in classes for name in schemas) >= 0.9 * len(schemas)  # a model per component, named for it
    assert sorted(served_models) == sorted(file_models)  # the inlined spec gave 983 modules against 325
    assert served_models == file_models
    # whatever the generator warns about (a construct it skips), it warns the same for both
    assert _warnings(from_served.stdout) == _warnings(from_file.stdout)


def _warnings(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if line.strip() and not line.startswith("Generating "))
