"""The stack's ceiling: an ASGI app that answers every request with the same bytes, served by uvicorn as the mock
is (one process, uvloop and httptools when installed). Run: `python benchmarks/bare_asgi.py PORT`."""

import sys

import uvicorn

BODY = b'{"id": "79ae2927-a9bc-46ed-8f9e-079af32b7616", "name": "Court 1"}\n'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
}


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the request body, as any real server must
        message = await receive()
        more = message.get("more_body", False)
    await send(START)
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
