"""The rules of a spamd REPORT, as findings: those that move the score, descriptions that wrap
joined, and a rule that speaks for the message told apart."""

from __future__ import annotations

from webapp.delivery.content_check.spamassassin import rules

REPORT = """Spam detection software, running on the system "mail.example.com",
has NOT identified this incoming email as spam.

Content preview:  Spring news Our spring newsletter has news about the garden [...]

Content analysis details:   (2.3 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
 0.0 NO_RELAYS              Informational: message was not relayed via SMTP
 1.2 MISSING_MID            Missing Message-Id: header
-0.1 DKIM_VALID             Message has at least one valid DKIM or DK signature
 1.2 HTML_IMAGE_ONLY_16     BODY: HTML: images with 1200-1600 bytes of
                            words
"""


def test_the_rules_that_move_the_score_become_findings():
    found = {f.code: f for f in rules(REPORT)}
    assert list(found) == ["MISSING_MID", "DKIM_VALID", "HTML_IMAGE_ONLY_16"]
    assert found["HTML_IMAGE_ONLY_16"].explanation == "BODY: HTML: images with 1200-1600 bytes of words"
    assert found["HTML_IMAGE_ONLY_16"].points == 1.2 and found["HTML_IMAGE_ONLY_16"].source == "spamassassin"
    assert found["DKIM_VALID"].points == -0.1 and found["DKIM_VALID"].fix.startswith("Nothing to do")


def test_text_before_the_table_is_no_rule():
    assert rules("Content preview:  1.0 WORDS THAT LOOK like a rule\n") == []
