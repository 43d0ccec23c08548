"""Mail clients, devices and machines told from user agents recorded from real opens and clicks."""

from __future__ import annotations

import pytest

from webapp.analytics.service.classify import Agent, classify

READERS = [
    # Gmail (web and apps) fetches images through its proxy when the reader opens the message.
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "Gmail", "unknown"),
    ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", "Yahoo", "unknown"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
        "Apple Mail",
        "desktop",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Apple Mail",
        "mobile",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Apple Mail",
        "tablet",
    ),
    (
        "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; "
        "Microsoft Outlook 16.0.5395; ms-office; MSOffice 16)",
        "Outlook",
        "desktop",
    ),
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)", "Outlook", "desktop"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0", "Thunderbird", "desktop"),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Webmail",
        "desktop",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        "Webmail",
        "mobile",
    ),
]

MACHINES = [
    "Mozilla/5.0",  # Apple Mail Privacy Protection's proxy
    "",
    "Barracuda Sentinel (EE)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "python-requests/2.31.0",
    "curl/8.4.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Mimecast URL Protect)",
]


@pytest.mark.parametrize(("agent", "client", "device"), READERS)
def test_a_readers_client_and_device(agent: str, client: str, device: str) -> None:
    assert classify(agent) == Agent(client, device, machine=False)


@pytest.mark.parametrize("agent", MACHINES)
def test_machines_are_flagged(agent: str) -> None:
    assert classify(agent).machine


def test_the_privacy_proxy_is_apple_mail() -> None:
    assert classify("Mozilla/5.0").client == "Apple Mail"
