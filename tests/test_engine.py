"""The request path's own parts: the batched access log, the paced collector, and a JSON world."""

import asyncio
import gc
import io
import json
import re

import yaml

from bookingkit.files import DEFAULT_WORLD
from mock_server.app import create_app
from mock_server.collector import paced_collector
from mock_server.control.access_log import AccessLog
from mock_server.world import load_world

from .conftest import COURT, TOKENS

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} bookingkit\.access GET /api/v1/courts/\S+ getCourtById 200 \d+\.\dms$"
)


def test_access_log_writes_one_line_per_request_in_batches_and_the_rest_at_shutdown():
    stream = io.StringIO()
    app = create_app(access_log=AccessLog(stream))
    with app.test_client() as client:
        for _ in range(3):
            assert client.get(f"/api/v1/courts/{COURT}", headers={"Authorization": f"Bearer {TOKENS['write']}"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all(LINE.match(line) for line in lines), lines


def test_access_log_flushes_at_once_without_a_loop():
    stream = io.StringIO()
    AccessLog(stream).write("GET", "/x", None, 404, 0.25)
    assert stream.getvalue().endswith(" bookingkit.access GET /x - 404 0.2ms\n")


def test_paced_collector_freezes_what_survives():
    async def run():
        gc.unfreeze()
        async with paced_collector(every=0.01):
            frozen = gc.get_freeze_count()
            keep = [[] for _ in range(1000)]  # lists are tracked by the collector; bare objects are not
            await asyncio.sleep(0.05)
            assert gc.get_freeze_count() >= frozen + 1000 and keep
        gc.unfreeze()

    asyncio.run(run())


def test_a_json_world_loads_as_its_yaml(tmp_path):
    path = tmp_path / "world.json"
    path.write_text(json.dumps(yaml.safe_load(DEFAULT_WORLD.read_text())))
    from_json, from_yaml = load_world(path), load_world(DEFAULT_WORLD)
    assert from_json.wingfield.dump()["records"] != []
    assert [b.key for b in from_json.wingfield.dump()["records"]] == [
        b.key for b in from_yaml.wingfield.dump()["records"]
    ]
    assert [s.id for s in from_json.onlive.dump()["services"]] == [s.id for s in from_yaml.onlive.dump()["services"]]
