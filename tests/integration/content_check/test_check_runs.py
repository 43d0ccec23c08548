"""The content check scores the real message (footer, tracked links, pixel, DKIM, return path) with
Mailroom's own checks of the message and of the From domain's DNS records, asked of a local DNS
server, and with SpamAssassin through a real spamd; a resolver or spamd that does not answer is
reported as not checked, within the time limit."""

from __future__ import annotations

import dataclasses

from tests.support.campaigns import audience, ready_campaign
from tests.support.dns_server import DnsServer
from tests.support.smtp import free_port
from tests.support.spamd import SilentServer, Spamd
from webapp.core.config import ContentCheckSettings
from webapp.delivery import content_check
from webapp.delivery.content_check.findings import SPAMASSASSIN
from webapp.settings.service import organisation as org_settings

WORDS = " ".join(["Our spring newsletter has news about the garden, the shop and the events this month."] * 6)
CLEAN_HTML = f"""<html><body><h1>Spring news</h1><p>{WORDS}</p>
<p><img src="https://example.com/garden.png" alt="The garden in spring"></p>
<p><a href="https://example.com/offer">Read about the offer</a> or visit <a href="https://www.example.com/">example.com</a></p>
</body></html>"""
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


async def signing_sender(db) -> org_settings.OrgSettings:
    await org_settings.save(
        db,
        org_settings.OrgSettings(
            organisation_name="Mailroom Tests Ltd",
            postal_address="1 Test Street, Testville",
            dkim_domain="example.com",
            dkim_selector="mailroom",
        ),
    )
    return await org_settings.replace_dkim_key(db)


def published(org: org_settings.OrgSettings) -> dict[str, list[str]]:
    return {
        "example.com": ["v=spf1 ip4:192.0.2.1 ~all", "google-site-verification=abc"],
        "_dmarc.example.com": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"],
        "mailroom._domainkey.example.com": [org.dkim_dns_record],
    }


def settings(dns: DnsServer, spamd: str = "", seconds: float = 2.0) -> ContentCheckSettings:
    return ContentCheckSettings(spamd=spamd, spamd_timeout=seconds, dns_server=dns.address, dns_timeout=seconds)


async def campaign(db, html: str = CLEAN_HTML, **overrides):
    email_list = await audience(db, 1)
    return await ready_campaign(db, [email_list.id], html_content=html, **overrides)


def codes(report: content_check.Report) -> set[str]:
    return {f.code for f in report.findings}


async def test_a_well_set_up_sender_with_a_clean_message_has_no_findings(db):
    c = await campaign(db)  # first: it saves the organisation anew
    org = await signing_sender(db)
    with DnsServer(published(org)) as dns:
        report = await content_check.run(db, c, settings(dns))
    assert report.findings == []
    assert report.unchecked == []
    assert report.score == 0
    assert "mailroom._domainkey.example.com" in dns.questions


async def test_the_message_is_judged_as_received_images_links_and_shorteners(db):
    html = """<html><body><p>Big sale</p>
    <img src="https://example.com/1.png"><img src="https://example.com/2.png" alt="">
    <a href="https://evil.test/login">www.example.com</a>
    <a href="https://bit.ly/3abc">See more</a></body></html>"""
    c = await campaign(db, html)
    org = await signing_sender(db)
    with DnsServer(published(org)) as dns:
        report = await content_check.run(db, c, settings(dns))
    assert codes(report) == {"image_alt_missing", "image_text_ratio", "link_text_domain_mismatch", "url_shortener"}
    found = {f.code: f for f in report.findings}
    assert found["image_alt_missing"].title == "2 images without alt text"
    # the destination, not the click-tracking URL the message carries
    assert "https://evil.test/login" in found["link_text_domain_mismatch"].explanation
    assert "https://bit.ly/3abc" in found["url_shortener"].explanation
    assert all(f.explanation and f.fix for f in report.findings)
    assert report.score == round(sum(f.points for f in report.findings), 1)


async def test_html_over_gmails_clipping_size_is_a_finding(db):
    html = f"<html><body>{'<p>' + WORDS + '</p>' * 1}{'<p>More of the same news, every week.</p>' * 3000}</body></html>"
    c = await campaign(db, html)
    org = await signing_sender(db)
    with DnsServer(published(org)) as dns:
        report = await content_check.run(db, c, settings(dns))
    assert codes(report) == {"gmail_clipping"}
    assert "Gmail clips it" in report.findings[0].title


async def test_missing_records_are_findings_that_say_what_to_publish(db):
    c = await campaign(db)  # no DKIM set up
    with DnsServer({}) as dns:
        report = await content_check.run(db, c, settings(dns))
    assert codes(report) == {"spf_missing", "dmarc_missing", "dkim_not_signed"}
    spf = next(f for f in report.findings if f.code == "spf_missing")
    assert "v=spf1" in spf.fix
    assert "_dmarc.example.com" in next(f for f in report.findings if f.code == "dmarc_missing").fix


async def test_a_stale_dkim_key_and_a_signer_of_another_domain_are_found(db):
    c = await campaign(db, from_email="news@shop.example.org")
    org = await signing_sender(db)
    records = published(org)
    stale = await org_settings.replace_dkim_key(db)  # the published record is now the old key's
    assert stale.dkim_dns_record != org.dkim_dns_record
    records["shop.example.org"] = ["v=spf1 +all"]
    records["_dmarc.example.org"] = ["v=DMARC1; p=none"]  # the parent domain's policy counts
    with DnsServer(records) as dns:
        report = await content_check.run(db, c, settings(dns))
    assert codes(report) == {"spf_allows_all", "dkim_not_aligned", "dkim_record_mismatch"}
    assert "_dmarc.example.org" in dns.questions


async def test_a_resolver_that_does_not_answer_leaves_the_records_unchecked(db):
    c = await campaign(db)  # first: it saves the organisation anew
    org = await signing_sender(db)
    with DnsServer(published(org), silent=True) as dns:
        report = await content_check.run(db, c, settings(dns, seconds=0.5))
    assert report.unchecked == ["DNS did not answer within 0.5 s, so the SPF, DKIM and DMARC records were not checked."]
    assert report.findings == []


async def test_spamassassin_scores_the_real_message(db, spamd: Spamd):
    c = await campaign(db, CLEAN_HTML.replace("</h1>", f"</h1><p>{GTUBE}</p>"))
    org = await signing_sender(db)
    with DnsServer(published(org)) as dns:
        report = await content_check.run(db, c, settings(dns, spamd.address, seconds=30))
    assert report.unchecked == []
    assert report.spamassassin_score is not None and report.spamassassin_score >= 1000
    gtube = next(f for f in report.findings if f.code == "GTUBE")
    assert gtube.source == SPAMASSASSIN and gtube.points == 1000
    assert report.score >= 1000


async def test_a_spamd_that_hangs_or_is_down_is_reported_not_waited_for(db):
    c = await campaign(db)  # first: it saves the organisation anew
    org = await signing_sender(db)
    with DnsServer(published(org)) as dns, SilentServer() as hanging:
        hung = await content_check.run(db, c, settings(dns, hanging.address, seconds=0.5))
        down = await content_check.run(db, c, dataclasses.replace(settings(dns), spamd=f"127.0.0.1:{free_port()}"))
    for report in (hung, down):
        assert report.spamassassin_score is None
        assert len(report.unchecked) == 1 and report.unchecked[0].startswith("SpamAssassin (spamd at 127.0.0.1:")
        assert report.findings == []
    assert "did not answer within 0.5 s" in hung.unchecked[0]
