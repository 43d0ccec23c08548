"""What an open's or a click's user agent says: a coarse mail client and device, and whether the
agent alone shows a machine rather than a reader.

Signals, from the agent (here) and from timing (the event worker's SQL, tracking/queries/events.py):
- A machine open: Apple Mail Privacy Protection fetches images through a proxy whose agent is the
  bare "Mozilla/5.0"; an empty agent; a crawler or HTTP library (ua-parser's "Spider" device, curl,
  python-requests ...). Gmail's and Yahoo's image proxies fetch when the reader opens the message,
  so they count as human opens of Gmail and Yahoo. Timing: an open within OPEN_PREFETCH_SECONDS of
  sending is a prefetch.
- A scanner click: the same agents plus known link scanners (Barracuda, Mimecast,
  Proofpoint, Microsoft Safe Links ...) and headless browsers. Timing: a click within
  SCANNER_CLICK_SECONDS of sending, or a click on another link of the same message within
  BURST_SECONDS of an earlier one (a scanner follows every link at once)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

OPEN_PREFETCH_SECONDS = 5
SCANNER_CLICK_SECONDS = 10
BURST_SECONDS = 2

MPP_AGENT = "Mozilla/5.0"
MAIL_PROXIES = {"GmailImageProxy": "Gmail", "YahooMailProxy": "Yahoo"}
SCANNERS = re.compile(
    r"barracuda|mimecast|proofpoint|symantec|messagelabs|trend ?micro|forcepoint|sophos|fireeye|"
    r"safelinks|safe ?links|cisco|ironport|zscaler|headlesschrome|phantomjs|python|curl/|wget/|"
    r"go-http-client|okhttp|java/|libwww|httpclient|axios|node-fetch|bot\b|spider|crawler",
    re.IGNORECASE,
)
DESKTOP_SYSTEMS = {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD"}
MOBILE_SYSTEMS = {"iOS", "Android", "Windows Phone", "BlackBerry OS"}
TABLETS = re.compile(r"ipad|tablet|kindle|silk|\btab\b", re.IGNORECASE)


@dataclass(frozen=True)
class Agent:
    client: str  # Gmail, Apple Mail, Outlook, Thunderbird, Yahoo, Webmail (a browser), Other
    device: str  # desktop, mobile, tablet, unknown
    machine: bool  # the agent alone shows a machine: a privacy proxy, a prefetcher, a scanner


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> Agent:
    """A user agent's client, device and machine flags (cached: a batch repeats a few agents)."""
    agent = user_agent.strip()
    if agent in ("", MPP_AGENT):
        return Agent("Apple Mail" if agent else "Other", "unknown", machine=True)
    result = parse(agent)
    family = result.user_agent.family if result.user_agent else ""
    if family in MAIL_PROXIES:
        return Agent(MAIL_PROXIES[family], "unknown", machine=False)
    machine = bool(SCANNERS.search(agent)) or (result.device is not None and result.device.family == "Spider")
    return Agent(_client(agent, family), _device(agent, result.os.family if result.os else ""), machine)


def _client(agent: str, family: str) -> str:
    if family == "Outlook" or "Microsoft Outlook" in agent or "ms-office" in agent:
        return "Outlook"
    if family == "Thunderbird":
        return "Thunderbird"
    if family == "Apple Mail" or family.endswith("WKWebView"):
        return "Apple Mail"
    if family and family not in ("Other", "Python Requests", "curl"):
        return "Webmail"
    return "Other"


def _device(agent: str, system: str) -> str:
    if TABLETS.search(agent):
        return "tablet"
    if system in MOBILE_SYSTEMS or "Mobile" in agent:
        return "mobile"
    if system in DESKTOP_SYSTEMS:
        return "desktop"
    return "unknown"
