"""A real browser: the interactive API docs authorize with the demo token and run "Get court by ID" (200); a page
on another origin reads and writes bookings through the mock (CORS), and cannot with --no-cors.

Needs Debian's chromium and chromium-driver (.ci/run installs them); without them the test is skipped.
"""

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import COURT, TOKENS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "no headless browser: install Debian's chromium and chromium-driver (.ci/run does)", allow_module_level=True
    )

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ready  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPERATION = "#operations-courts-getCourtById"


@contextlib.contextmanager
def running_mock(folder: Path, *options: str):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (folder / f"mock-{port}.log").open("w") as handle:
        command = [sys.executable, "-m", "bookingkit.cli", "mock", "--port", str(port), "--log-level", "warning"]
        process = subprocess.Popen([*command, *options], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{url}/api/v1/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    with running_mock(tmp_path_factory.mktemp("docs")) as url:
        yield url


@pytest.fixture(scope="module")
def no_cors_url(tmp_path_factory):
    with running_mock(tmp_path_factory.mktemp("no-cors"), "--no-cors") as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
        "--window-size=1400,2000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_docs_page_authorizes_and_runs_get_court_by_id(base_url, browser):
    wait = WebDriverWait(browser, 30)
    browser.get(f"{base_url}/api/v1/ui/")
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".auth-wrapper button.authorize"))).click()
    token_input = wait.until(
        ready.visibility_of_element_located(
            (By.XPATH, "//div[contains(@class,'auth-container')][.//*[contains(text(),'bearerAuth')]]//input")
        )
    )
    token_input.send_keys(TOKENS["write"])
    browser.find_element(
        By.XPATH,
        "//div[contains(@class,'auth-container')][.//*[contains(text(),'bearerAuth')]]"
        "//button[contains(@class,'authorize')]",
    ).click()
    browser.find_element(By.CSS_SELECTOR, "button.btn-done").click()

    operation = wait.until(ready.presence_of_element_located((By.ID, "operations-courts-getCourtById")))
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(
        ready.element_to_be_clickable((By.CSS_SELECTOR, "#operations-courts-getCourtById .try-out__btn"))
    ).click()
    court_input = operation.find_element(By.CSS_SELECTOR, "input[placeholder='courtId']")
    court_input.clear()
    court_input.send_keys(COURT)
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait.until(
        ready.visibility_of_element_located(
            (By.CSS_SELECTOR, f"{OPERATION} .live-responses-table tr.response td.response-col_status")
        )
    )
    assert status.text.strip().startswith("200"), status.text
    body = operation.find_element(By.CSS_SELECTOR, ".live-responses-table tr.response td.response-col_description").text
    assert COURT in body and "Court 1" in body


CROSS_ORIGIN = """
const [target, token, court, done] = arguments;
const service = "e8623a0d-39de-4963-9c6c-a25dc38e89c9";
const booking = `${target}/api/v1/external-services/${service}/court-bookings/by-external-id/cors-${Date.now()}`;
const headers = {"Authorization": `Bearer ${token}`, "Content-Type": "application/json"};
const body = JSON.stringify({courtId: court, startDate: "2093-05-05T10:00:00Z", endDate: "2093-05-05T11:00:00Z",
  externalUpdatedAt: "2093-01-01T00:00:00Z", participants: [{email: "cors@example.com"}]});
(async () => {
  try {
    const put = await fetch(booking, {method: "PUT", headers, body});
    const read = await fetch(booking, {headers});
    done({put: put.status, read: read.status, court: (await read.json()).courtId});
  } catch (error) {
    done({error: String(error)});
  }
})();
"""


def test_a_page_on_another_origin_books_through_the_mock_and_not_with_no_cors(base_url, no_cors_url, browser):
    browser.set_script_timeout(30)
    browser.get(f"{no_cors_url}/api/v1/openapi.json")  # a page of another origin (another port)
    result = browser.execute_async_script(CROSS_ORIGIN, base_url, TOKENS["write"], COURT)
    assert result == {"put": 200, "read": 200, "court": COURT}, result
    browser.get(f"{base_url}/api/v1/openapi.json")
    refused = browser.execute_async_script(CROSS_ORIGIN, no_cors_url, TOKENS["write"], COURT)
    assert "error" in refused, refused  # the browser blocks it: no Access-Control-Allow-Origin
