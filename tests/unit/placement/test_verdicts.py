"""Reading the providers' authentication verdicts and folder kinds from what their servers show."""

from __future__ import annotations

from webapp.placement.service.folders import Folder, placement, search_order
from webapp.placement.service.verdicts import verdicts

GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=abc;\r\n"
    "       spf=pass (google.com: domain of b@example.com designates 192.0.2.1 as permitted sender)"
    " smtp.mailfrom=b@example.com;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com"
)
# Microsoft's header has no authserv-id, which RFC 8601 requires and strict parsers insist on.
OUTLOOK = (
    "spf=softfail (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=none (message not signed)"
    " header.d=none;dmarc=fail action=quarantine header.from=example.com;compauth=fail reason=001"
)


def test_gmail_and_outlook_verdicts_are_read():
    assert verdicts([GMAIL]) == {"dkim": "pass", "spf": "pass", "dmarc": "pass"}
    assert verdicts([OUTLOOK]) == {"spf": "softfail", "dkim": "none", "dmarc": "fail"}


def test_the_topmost_header_wins_over_lower_ones_a_sender_may_have_forged():
    forged = "mx.forger.example; dkim=pass; spf=pass; dmarc=pass"
    assert verdicts([OUTLOOK, forged]) == {"spf": "softfail", "dkim": "none", "dmarc": "fail"}


def test_comments_even_nested_ones_are_not_read_as_results():
    header = "mx.example; dkim=fail (bad (really: dkim=pass) signature) header.d=example.com"
    assert verdicts([header]) == {"dkim": "fail"}


def test_received_spf_gives_the_spf_verdict_when_no_authentication_results_has_one():
    spf = "Neutral (mx.example: 192.0.2.1 is neither permitted nor denied) client-ip=192.0.2.1"
    assert verdicts(["mx.example; dkim=pass"], [spf]) == {"dkim": "pass", "spf": "neutral"}
    assert verdicts([], []) == {}


def test_without_authentication_results_the_newest_arc_seal_s_results_stand_in():
    arc = [
        "i=1; mx.forwarder.example; dkim=pass header.d=example.com; spf=pass; dmarc=pass",
        "i=2; mx.google.com; dkim=fail header.d=example.com; spf=softfail; dmarc=fail",
    ]
    assert verdicts([], [], arc) == {"dkim": "fail", "spf": "softfail", "dmarc": "fail"}
    assert verdicts(["mx.google.com; dkim=pass"], [], arc)["dkim"] == "pass"


def folder(name: str, *flags: str, delimiter: str = "/") -> Folder:
    return Folder(name, frozenset(flags), delimiter)


def test_folders_are_told_apart_by_name_flag_or_the_seed_s_setting():
    assert placement(folder("INBOX")) == ("inbox", "")
    assert placement(folder("[Gmail]/Spam")) == ("spam", "")
    assert placement(folder("Junk Email")) == ("spam", "")
    assert placement(folder("Bulk", delimiter="")) == ("spam", "")
    assert placement(folder("Quarantaine", "\\junk")) == ("spam", "")
    assert placement(folder("Unwanted")) == ("other", "")
    assert placement(folder("Unwanted"), spam_folder="Unwanted") == ("spam", "")
    assert placement(folder("INBOX.Promotions", delimiter=".")) == ("category", "Promotions")


def test_the_inbox_is_searched_first_then_spam_and_views_of_other_folders_never():
    listed = [
        folder("Archive"),
        folder("[Gmail]/All Mail", "\\all"),
        folder("[Gmail]/Sent Mail", "\\sent"),
        folder("[Gmail]/Spam", "\\junk"),
        folder("INBOX"),
        folder("[Gmail]", "\\noselect"),
    ]
    assert [f.name for f in search_order(listed)] == ["INBOX", "[Gmail]/Spam", "Archive"]
