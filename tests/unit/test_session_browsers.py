"""How the account page names the browser of each session."""

from __future__ import annotations

import pytest

from webapp.staff.service.signed_in import describe

CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36 Edg/131.0.2903.86"
)
FIREFOX_ON_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


@pytest.mark.parametrize(
    ("agent", "named"),
    [
        (CHROME_ON_MAC, "Chrome 131 on macOS"),
        (EDGE_ON_WINDOWS, "Edge 131 on Windows"),
        (FIREFOX_ON_ANDROID, "Firefox Mobile 133 on Android"),
        ("curl/8.5.0", "curl 8"),
        ("", "An unknown browser"),
        ("x" * 5000, "An unknown browser"),
    ],
)
def test_a_session_is_named_by_its_browser_and_system(agent, named):
    assert describe(agent) == named
