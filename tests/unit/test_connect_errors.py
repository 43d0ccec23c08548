"""What the Test buttons say when a connection fails: the cause a library wraps, in words that say
what to check."""

from __future__ import annotations

import errno
import socket
import ssl

from webapp.core.connect_errors import connect_failure

WHERE = "mail.example.com:587"


def wrapped(cause: BaseException) -> Exception:
    """As aiosmtplib raises it: its own error, the OS's as the cause."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("Error connecting to mail.example.com on port 587: [Errno -2] ...") from inner
    except RuntimeError as outer:
        return outer


def test_each_cause_says_what_to_check():
    unknown_host = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert connect_failure(wrapped(unknown_host), WHERE) == (
        "The host of mail.example.com:587 could not be found: check its name."
    )
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('10.0.0.1', 587)")
    assert connect_failure(wrapped(refused), WHERE) == "Cannot connect to mail.example.com:587: Connection refused."
    tls = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    tls.reason = "WRONG_VERSION_NUMBER"
    assert connect_failure(wrapped(tls), WHERE) == (
        "TLS with mail.example.com:587 failed (WRONG_VERSION_NUMBER); check the TLS mode and port."
    )


def test_an_error_that_is_not_about_connecting_is_left_to_the_caller():
    assert connect_failure(RuntimeError("the server hung up"), WHERE) is None
