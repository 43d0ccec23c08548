"""The From domain's authentication records as receivers look them up: SPF, DMARC and the DKIM key
Mailroom signs with, and whether the signing domain and the return path align with the From domain
(what DMARC needs). Every lookup shares one deadline; a resolver that does not answer in time is
reported as such, never waited for."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from webapp.delivery.content_check.findings import Finding
from webapp.settings.service.organisation import domains_align

DNS_UNANSWERED = "DNS did not answer within {timeout:g} s, so the SPF, DKIM and DMARC records were not checked."


class DnsUnavailable(Exception):
    """The resolver timed out or failed (SERVFAIL, refused): the records are unknown, not missing."""


@dataclass(frozen=True)
class Sender:
    from_domain: str
    return_path_domain: str
    dkim_domain: str = ""  # empty: messages are not signed
    dkim_selector: str = ""
    dkim_record: str = ""  # the TXT record matching the key Mailroom signs with


def resolver(server: str, timeout: float) -> dns.asyncresolver.Resolver:
    """The system's resolver, or the one at host:port."""
    if not server:
        found = dns.asyncresolver.Resolver()
    else:
        found = dns.asyncresolver.Resolver(configure=False)
        host, _, port = server.rpartition(":")
        found.nameservers = [host or server]
        found.port = int(port) if host else 53
    found.lifetime = found.timeout = timeout
    return found


async def txt(lookup: dns.asyncresolver.Resolver, name: str) -> list[str]:
    """The TXT strings at a name ([] when it has none or does not exist)."""
    try:
        answer = await lookup.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise DnsUnavailable(str(exc)) from exc
    return [b"".join(record.strings).decode(errors="replace") for record in answer]


async def examine(sender: Sender, server: str, seconds: float) -> tuple[list[Finding], list[str]]:
    """(findings, what could not be checked)."""
    lookup = resolver(server, seconds)
    try:
        async with asyncio.timeout(seconds + 1):
            spf, dmarc, dkim = await asyncio.gather(
                txt(lookup, sender.from_domain),
                _dmarc_records(lookup, sender.from_domain),
                txt(lookup, f"{sender.dkim_selector}._domainkey.{sender.dkim_domain}")
                if sender.dkim_domain
                else _nothing(),
            )
    except (DnsUnavailable, TimeoutError):
        return [], [DNS_UNANSWERED.format(timeout=seconds)]
    return [*_spf(sender, spf), *_dmarc(sender, dmarc), *_dkim(sender, dkim), *_alignment(sender)], []


async def _nothing() -> list[str]:
    return []


async def _dmarc_records(lookup: dns.asyncresolver.Resolver, domain: str) -> list[str]:
    """The domain's DMARC records, else its parent's (receivers fall back to the organisational
    domain; Mailroom takes the last two labels for it, which is wrong only under suffixes like co.uk)."""
    found = [r for r in await txt(lookup, f"_dmarc.{domain}") if r.lower().startswith("v=dmarc1")]
    parent = ".".join(domain.split(".")[-2:])
    if not found and parent != domain:
        found = [r for r in await txt(lookup, f"_dmarc.{parent}") if r.lower().startswith("v=dmarc1")]
    return found


def _tags(record: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in record.split(";") if "=" in item)
    return {key.strip().lower(): "".join(value.split()) for key, _, value in pairs}


def _spf(sender: Sender, records: list[str]) -> list[Finding]:
    domain = sender.from_domain
    spf = [r for r in records if r.lower().split(" ", 1)[0] == "v=spf1"]
    if not spf:
        return [
            Finding(
                code="spf_missing",
                title=f"No SPF record for {domain}",
                explanation=(
                    f"SPF tells receivers which servers may send mail for {domain}. Without it they cannot "
                    "tell your mail from forgeries; Gmail and Yahoo require SPF or DKIM of every sender."
                ),
                fix=f'Publish a TXT record at {domain} such as "v=spf1 include:<your mail server\'s domain> ~all".',
                points=1.0,
            )
        ]
    if len(spf) > 1:
        return [
            Finding(
                code="spf_multiple",
                title=f"{len(spf)} SPF records for {domain}",
                explanation="A domain may have one SPF record; with several, SPF fails for every message.",
                fix="Merge them into one TXT record starting with v=spf1.",
                points=1.0,
            )
        ]
    if any(term in ("all", "+all") for term in spf[0].lower().split()):
        return [
            Finding(
                code="spf_allows_all",
                title=f"The SPF record of {domain} allows any server",
                explanation="“+all” lets anyone send as your domain, so receivers give the SPF pass no weight.",
                fix="End the record with ~all (or -all) after listing the servers that send your mail.",
                points=1.0,
            )
        ]
    return []


def _dmarc(sender: Sender, records: list[str]) -> list[Finding]:
    domain = sender.from_domain
    if not records:
        return [
            Finding(
                code="dmarc_missing",
                title=f"No DMARC record for {domain}",
                explanation=(
                    "Gmail and Yahoo require a DMARC record of bulk senders, and without one receivers "
                    "have no policy for mail that fails SPF and DKIM."
                ),
                fix=f'Publish a TXT record at _dmarc.{domain} such as "v=DMARC1; p=none; rua=mailto:dmarc@{domain}", '
                "then move to p=quarantine once the reports look right.",
                points=1.0,
            )
        ]
    return []


def _dkim(sender: Sender, records: list[str]) -> list[Finding]:
    if not sender.dkim_domain:
        return [
            Finding(
                code="dkim_not_signed",
                title="Messages are not DKIM-signed",
                explanation="Without a DKIM signature receivers cannot tell your mail was not changed or forged; "
                "DMARC then rests on SPF alone.",
                fix="An admin sets up DKIM under Settings → Organisation and publishes the TXT record it shows.",
                points=1.0,
            )
        ]
    name = f"{sender.dkim_selector}._domainkey.{sender.dkim_domain}"
    keys = [_tags(r).get("p", "") for r in records if "p" in _tags(r)]
    if not keys:
        return [
            Finding(
                code="dkim_record_missing",
                title=f"No DKIM key published at {name}",
                explanation="Messages are signed, but receivers find no key to check the signature with, so "
                "DKIM fails for every message.",
                fix=f"Publish the TXT record shown under Settings → Organisation at {name}.",
                points=1.5,
            )
        ]
    if sender.dkim_record and _tags(sender.dkim_record).get("p") not in keys:
        return [
            Finding(
                code="dkim_record_mismatch",
                title=f"The DKIM key at {name} is not the one Mailroom signs with",
                explanation="Receivers check the signature with the published key; with another key it fails.",
                fix=f"Replace the TXT record at {name} with the one shown under Settings → Organisation.",
                points=1.5,
            )
        ]
    return []


def _alignment(sender: Sender) -> list[Finding]:
    findings = []
    if sender.dkim_domain and not domains_align(sender.from_domain, sender.dkim_domain):
        findings.append(
            Finding(
                code="dkim_not_aligned",
                title=f"Signed by {sender.dkim_domain}, sent from {sender.from_domain}",
                explanation="DMARC counts a DKIM signature only when its domain matches the From address's "
                "domain (or a parent of it); this one does not.",
                fix=f"Send from an address at {sender.dkim_domain}, or sign with {sender.from_domain}.",
                points=1.0,
            )
        )
    if not domains_align(sender.from_domain, sender.return_path_domain):
        findings.append(
            Finding(
                code="return_path_not_aligned",
                title=f"Bounces go to {sender.return_path_domain}, not {sender.from_domain}",
                explanation="DMARC counts an SPF pass only when the return path (where bounces go) is at the "
                "From address's domain; this one is not, so DMARC rests on DKIM alone.",
                fix=f"Use a bounce mailbox at {sender.from_domain} (Settings → Bounce mailbox), or make sure "
                "DKIM is aligned.",
                points=0.5,
            )
        )
    return findings
