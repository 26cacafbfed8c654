"""A real browser: the interactive API docs authorize with the demo token and run "Get court by ID" (200); they
sign ONLIVE.SITE requests in the browser (demo key: "Create booking service" is 201, a wrong secret 401), with the
same canonical request and signature as bookingkit.signing; a page on another origin reads and writes bookings
through the mock (CORS), and cannot with --no-cors.

Needs Debian's chromium and chromium-driver (.ci/run installs them); without them the test is skipped.
"""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bookingkit import signing

from .conftest import COURT, TOKENS
from .live import running_mock

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


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    with running_mock(tmp_path_factory.mktemp("docs") / "mock.log") as url:
        yield url


@pytest.fixture(scope="module")
def no_cors_url(tmp_path_factory):
    with running_mock(tmp_path_factory.mktemp("no-cors") / "mock.log", "--no-cors") as url:
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


DEMO_KEY, DEMO_SECRET = "ONLIVEDEMOACCESSKEY", "demo-secret-access-key"  # the default world's Demo Motors
CREATE_SERVICE = "operations-booking-services-createService"
ONLIVE_AUTH = "//div[contains(@class,'auth-container')][.//*[contains(text(),'onliveSignature')]]"


def _create_service_from_the_page(base_url: str, browser, key: str, secret: str) -> tuple[str, str]:
    """Authorizes the ONLIVE scheme with `key` and `secret` in a fresh page, runs "Create booking service" with its
    example body; the answer's status and body."""
    wait = WebDriverWait(browser, 30)
    browser.get("about:blank")  # a new page: no authorization left from an earlier test
    browser.get(f"{base_url}/api/v1/ui/")
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".auth-wrapper button.authorize"))).click()
    wait.until(ready.visibility_of_element_located((By.XPATH, f"{ONLIVE_AUTH}//input[@name='accessKeyId']")))
    browser.find_element(By.XPATH, f"{ONLIVE_AUTH}//input[@name='accessKeyId']").send_keys(key)
    browser.find_element(By.XPATH, f"{ONLIVE_AUTH}//input[@name='secret']").send_keys(secret)
    browser.find_element(By.XPATH, f"{ONLIVE_AUTH}//button[contains(@class,'authorize')]").click()
    wait.until(ready.visibility_of_element_located((By.XPATH, f"{ONLIVE_AUTH}//h6[text()='Authorized']")))
    browser.find_element(By.CSS_SELECTOR, "button.btn-done").click()

    operation = wait.until(ready.presence_of_element_located((By.ID, CREATE_SERVICE)))
    browser.execute_script("arguments[0].scrollIntoView()", operation)
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"#{CREATE_SERVICE} .try-out__btn"))).click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"#{CREATE_SERVICE} button.execute"))).click()
    status = wait.until(
        ready.visibility_of_element_located(
            (By.CSS_SELECTOR, f"#{CREATE_SERVICE} .live-responses-table tr.response td.response-col_status")
        )
    )
    body = operation.find_element(By.CSS_SELECTOR, ".live-responses-table tr.response td.response-col_description")
    return status.text.strip(), body.text


def test_docs_page_signs_onlive_requests_and_creates_a_service(base_url, browser):
    status, body = _create_service_from_the_page(base_url, browser, DEMO_KEY, DEMO_SECRET)
    assert status.startswith("201"), (status, body)
    assert "Test Drive Standard" in body


def test_docs_page_with_a_wrong_secret_gets_the_documented_401(base_url, browser):
    status, body = _create_service_from_the_page(base_url, browser, DEMO_KEY, "not-the-secret")
    assert status.startswith("401"), (status, body)
    assert "canonicalRequest" in body  # a wrong signature only: the mock shows what it signed


SIGN_IN_PAGE = """
const [requests, queries, done] = arguments;
(async () => {
  try {
    const signed = [];
    for (const r of requests) signed.push(await OnliveSigning.sign({...r, now: new Date(r.now)}));
    done({signed, queries: queries.map((q) => OnliveSigning.canonicalQuery(q))});
  } catch (error) {
    done({error: String(error)});
  }
})();
"""


def test_the_page_script_signs_as_bookingkit_signing_does(base_url, browser):
    now = datetime(2031, 1, 15, 18, 0, 5, tzinfo=UTC)
    requests = [
        {"method": "post", "url": f"{base_url}/api/v1/services", "body": '{"name": "Prüfung ✓", "duration": 30}'},
        {"method": "GET", "url": f"{base_url}/api/v1/appointments?page=2&limit=10&b=%7e&a=x+y&a=%20&z", "body": ""},
        {"method": "DELETE", "url": f"{base_url}/api/v1/booking-services/2721d636-x?q=%E2%82%AC", "body": None},
    ]
    queries = ["", "b=2&a=%7e+x&a=1&c", "%E2%82%AC=%ff&c=a=b&=v&", "x=%zz&y=%41%42&%EF%BB%BFbom=1", "a=~!*'()&a=[]"]
    browser.set_script_timeout(30)
    browser.get(f"{base_url}/api/v1/ui/")
    WebDriverWait(browser, 30).until(lambda driver: driver.execute_script("return !!window.OnliveSigning"))
    for_js = [{**r, "accessKeyId": DEMO_KEY, "secret": DEMO_SECRET, "now": now.isoformat()} for r in requests]
    result = browser.execute_async_script(SIGN_IN_PAGE, for_js, queries)
    assert "error" not in result, result
    for request, signed in zip(requests, result["signed"], strict=True):
        expected = signing.sign(
            request["method"], request["url"], (request["body"] or "").encode(), DEMO_KEY, DEMO_SECRET, now
        )
        assert signed == {
            "date": expected.date,
            "authorization": expected.authorization,
            "canonical": expected.canonical_request,
        }
    assert result["queries"] == [signing.canonical_query(query) for query in queries]
