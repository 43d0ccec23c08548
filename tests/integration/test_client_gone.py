"""A client that leaves before its request's body has arrived (a page abandoned mid-request) is
no server error: the log says so in a line, without a traceback."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.conftest import running_server
from tests.support.logs import log_file


def test_a_client_leaving_mid_body_is_logged_as_such_not_as_an_error(db):
    with running_server("client-gone") as url:
        where = urlsplit(url)
        with socket.create_connection((where.hostname, where.port)) as raw:
            raw.sendall(
                b"POST /subscribe/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\nemail=a%40"
            )
            time.sleep(0.5)
        deadline = time.monotonic() + 10
        while "the client left" not in (logged := log_file("client-gone").read_text()):
            assert time.monotonic() < deadline, logged[-2000:]
            time.sleep(0.2)
    assert "the client left during POST /subscribe/1" in logged
    assert "unhandled error" not in logged and "Traceback" not in logged
