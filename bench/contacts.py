"""Contacts page at 1,000,000 contacts: p50/p95 server time for four typical views.

Seeds the contacts with COPY (in chunks), signs in as an editor and times GET /contacts on the real
server (uvicorn subprocess, loopback); then, with fewer requests, harder filters and sorts and the
page of a list imported in one go (GET /lists/<id>). Server time is the app's `Server-Timing: app;dur=` header
(from the first byte of the request to the response start, so it includes session, auth, queries and
template rendering); the client's wall time on loopback is printed alongside for comparison.

    python bench/contacts.py            # or: make bench
    BENCH_CONTACTS=200000 python bench/contacts.py

Figures, last, one per line: `name: value`, ending with `contacts_page_p95_ms: N` (worst p95).
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
from _common import create_staff, measure, percentile, server, services, sign_in
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from webapp.contacts.models import Contact
from webapp.contacts.queries.filters import apply_filter, decode_cursor
from webapp.contacts.schemas import ContactFilter

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
CHUNK = 100_000
DEEP_PAGES = 200

FIRST_NAMES = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret
Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda
Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan
Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin
Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel
Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam
Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter
Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha Harold
Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean
Bryan Abigail Billy Alice Joe Judy Bruce Sophia Gabriel Grace Logan Denise Albert Amber Willie Doris Alan Marilyn
Juan Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diana Vincent Natalie Ralph Brittany Eugene
Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori Louis Marta Marco Mario Marcus Martin Marion""".split()

LAST_NAMES = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis
Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera
Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart
Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox
Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes
Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno
West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison
Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford
Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner
Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols
Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Hansen Peters Santos
Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Ray Berry Perkins
Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval Guerrero George Chapman
Rios Estrada Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison""".split()

COMPANY_WORDS = """Acme Apex Atlas Aurora Beacon Blue Bright Cedar Citadel Clear Cobalt Copper Crest Crystal Delta
Eagle Echo Ember Evergreen Falcon First Fusion Global Golden Granite Green Harbor Horizon Iron Keystone Lake
Liberty Lighthouse Lunar Maple Meridian Metro Nimbus North Nova Oak Ocean Orbit Pacific Peak Pine Pioneer
Prime Quantum Quest Rapid Red River Rock Sage Sierra Silver Solar Spark Spring Star Sterling Stone Summit
Sun Swift Terra Titan True Union United Vector Vertex Vista Wave West Willow Zenith""".split()
COMPANY_KINDS = """Labs Systems Solutions Logistics Media Foods Health Energy Capital Partners Studio Works Group
Networks Analytics Software Consulting Design Retail Robotics Bank Insurance Dynamics Digital Ventures Supply
Motors Pharma Telecom Travel Apparel Brewing Realty Security Cloud Learning Legal Marine Farms Industries""".split()
SUFFIXES = ["Inc", "LLC", "Ltd", "GmbH", "Co", "", "", ""]

DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me", "fastmail.com"]
JOB_TITLES = [
    "Marketing Manager",
    "Software Engineer",
    "Sales Director",
    "CEO",
    "CTO",
    "Designer",
    "Product Manager",
    "Account Executive",
    "Data Analyst",
    "Operations Lead",
    "HR Manager",
    "Founder",
    "Consultant",
    "Customer Success Manager",
    "Student",
    "",
]
LOCATIONS = [
    "New York, US",
    "London, UK",
    "Berlin, DE",
    "Paris, FR",
    "Toronto, CA",
    "Sydney, AU",
    "Austin, US",
    "San Francisco, US",
    "Madrid, ES",
    "Amsterdam, NL",
    "Dublin, IE",
    "Singapore, SG",
    "Tokyo, JP",
    "",
]
# 10 tags with very uneven popularity: (tag, share of contacts carrying it), spread over time ...
TAGS = [
    ("newsletter", 0.55),
    ("customer", 0.30),
    ("lead", 0.25),
    ("trial", 0.08),
    ("partner", 0.04),
    ("beta", 0.03),
    ("vip", 0.02),
    ("churned", 0.01),
    ("press", 0.002),
]
# ... and one that belongs to a moment: 30% of the contacts added in two months, 18-20 months ago.
CLUSTERED_TAG = "webinar-2024"
STATUSES = ["active"] * 92 + ["unsubscribed"] * 5 + ["bounced"] * 2 + ["complained"]
PLANS = ["free", "starter", "pro", "enterprise"]

SEED = 20261122
# A static list imported in one go: everyone added in one month, 26-27 months ago (~2.8%).
IMPORTED_LIST = "Imported from the old CRM"

# The four cases of the target (first page and deep page have no filter).
SEARCH = "mar"  # a common name prefix (Mary, Mark, Martin, Martinez, Marshall, Marta, Marco, ...): ~9.5%
TAG = "vip"  # ~2%
RUNS, WARMUP = 200, 20
# Harder filters and sorts (see README.md, Benchmarks): timed with fewer requests.
HARD_CASES = {
    "search_rare": {"q": "alvarez"},  # one surname of 300: ~0.4%
    "tag_rare": {"tag": "press"},  # ~0.2%
    "search_and_tag": {"q": SEARCH, "tag": TAG},  # ~0.2%
    "tag_clustered": {"tag": CLUSTERED_TAG},  # ~1.7%, all added 18-20 months ago
    "tag_clustered_oldest": {"tag": CLUSTERED_TAG, "sort": "oldest"},  # the same from the other end
    "tag_rare_by_email": {"tag": "press", "sort": "email"},  # a rare tag in an order unrelated to the table's
    "search_by_name": {"q": SEARCH, "sort": "name"},  # matches first names, which bunch up inside each surname
    "tag_common_by_updated": {"tag": "newsletter", "sort": "updated"},  # ~55%
}
HARD_RUNS, HARD_WARMUP = 30, 3


def _companies(rng: random.Random, n: int = 5000) -> list[str]:
    """Company names in alphabetical order, which the weights in _rows make their order of popularity."""
    names: set[str] = set()
    while len(names) < n:
        suffix = rng.choice(SUFFIXES)
        names.add(" ".join(filter(None, [rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS), suffix])))
    return sorted(names)


def _rows(rng: random.Random, start: int, count: int, total: int, companies: list[str], now: datetime):
    # Contacts arrive over three years, so date_added grows with id (and the physical row order),
    # as in a table that grew by sign-ups and imports.
    first_day, step = now - timedelta(days=3 * 365), 3 * 365 * 86400 / total
    webinar = (now - timedelta(days=610), now - timedelta(days=550))
    # Companies follow a long tail (Zipf-like weights): a few big accounts, thousands of small ones.
    weights = [1 / (rank + 20) for rank in range(len(companies))]
    company_of = rng.choices(companies, weights=weights, k=count)
    for n, i in enumerate(range(start, start + count)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        added = first_day + timedelta(seconds=(i + rng.random()) * step)
        updated = added + timedelta(seconds=rng.randrange(int((now - added).total_seconds()) + 1))
        tags = [tag for tag, share in TAGS if rng.random() < share]
        if webinar[0] <= added < webinar[1] and rng.random() < 0.3:
            tags.append(CLUSTERED_TAG)  # people who signed up for one event, two months long
        status = rng.choice(STATUSES)
        yield (
            f"{first.lower()}.{last.lower()}{i}@{rng.choice(DOMAINS)}",
            first,
            last,
            f"+1 555 {rng.randrange(10_000_000):07d}" if rng.random() < 0.6 else "",
            company_of[n] if rng.random() < 0.85 else "",
            rng.choice(JOB_TITLES),
            rng.choice(LOCATIONS),
            tags,
            json.dumps({"plan": rng.choice(PLANS), "score": rng.randrange(100)}) if rng.random() < 0.4 else "{}",
            status == "active" and rng.random() < 0.97,
            status,
            added,
            updated,
        )


def seed(dsn: str, count: int) -> dict[str, float]:
    """COPY `count` contacts in chunks, add the imported list, then VACUUM (ANALYZE). Returns timing figures."""
    rng = random.Random(SEED)
    companies = _companies(rng)
    now = datetime.now(UTC)
    columns = (
        "email, first_name, last_name, phone, company, job_title, location, tags, custom_fields, "
        "is_active, status, date_added, last_updated"
    )
    with psycopg.connect(dsn) as conn:
        existing = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
        if existing:
            raise SystemExit(f"contacts already holds {existing} rows: point DATABASE_URL at an empty database")
        started = time.perf_counter()
        for start in range(0, count, CHUNK):
            with conn.cursor().copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
                for row in _rows(rng, start, min(CHUNK, count - start), count, companies, now):
                    copy.write_row(row)
            conn.commit()
            done = min(start + CHUNK, count)
            print(f"  seeded {done:,} contacts ({done / (time.perf_counter() - started):,.0f} rows/s)", flush=True)
        copy_s = time.perf_counter() - started
        list_id = conn.execute("INSERT INTO email_lists (name) VALUES (%s) RETURNING id", [IMPORTED_LIST]).fetchone()[0]
        conn.execute(
            "INSERT INTO list_members (list_id, contact_id) SELECT %s, id FROM contacts "
            "WHERE date_added >= %s AND date_added < %s",
            [list_id, now - timedelta(days=27 * 30.4), now - timedelta(days=26 * 30.4)],
        )
        conn.commit()
        # What autovacuum would have done to a table that grew over time (and so it does not
        # start in the middle of the timings): visibility map, hint bits, planner statistics.
        started = time.perf_counter()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) contacts")
        conn.execute("VACUUM (ANALYZE) list_members")
        vacuum_s = time.perf_counter() - started
    return {
        "seed_rows_per_s": round(count / copy_s),
        "seed_seconds": round(copy_s, 1),
        "vacuum_analyze_seconds": round(vacuum_s, 1),
    }


def deep_cursor(client: httpx.Client, pages: int) -> str:
    """Follow the table's Next link `pages` times from the first page; the cursor reached."""
    cursor = ""
    for _ in range(pages):
        response = client.get("/contacts", params={"cursor": cursor} if cursor else None)
        response.raise_for_status()
        cursor = _next_cursor(response.text)
    return cursor


def _next_cursor(page_html: str) -> str:
    for href in re.findall(r'href="([^"]*[?&]cursor=[^"]*)"', page_html):
        for value in parse_qs(urlsplit(html.unescape(href)).query).get("cursor", []):
            decoded = decode_cursor(value, "newest")
            if decoded and decoded[0] == "after":
                return value
    raise RuntimeError("no Next link on the contacts page")


def _time_cases(
    client: httpx.Client, cases: dict[str, dict[str, str]], runs: int, warmup: int, path: str = "/contacts"
) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, params in cases.items():
        server_ms, client_ms = measure(lambda params=params: client.get(path, params=params), runs=runs, warmup=warmup)
        shown = {k: (v[:12] + "…" if len(v) > 12 else v) for k, v in params.items()}
        print(
            f"  {name:<21} {shown!s:<36} server p50 {percentile(server_ms, 50):6.1f} ms  "
            f"p95 {percentile(server_ms, 95):6.1f} ms | client p50 {percentile(client_ms, 50):6.1f} ms  "
            f"p95 {percentile(client_ms, 95):6.1f} ms",
            flush=True,
        )
        figures[f"contacts_{name}_p50_ms"] = round(percentile(server_ms, 50), 1)
        figures[f"contacts_{name}_p95_ms"] = round(percentile(server_ms, 95), 1)
    return figures


def time_page(list_id: int) -> tuple[dict[str, float], dict[str, float]]:
    """(the four cases of the target, harder filters shown for information)."""
    create_staff("bench-editor@example.com", "editor")
    with server() as url, contextlib.closing(sign_in(url, "bench-editor@example.com")) as client:
        cases = {
            "first_page": {},
            "deep_page": {"cursor": deep_cursor(client, DEEP_PAGES)},
            "search": {"q": SEARCH},
            "tag": {"tag": TAG},
        }
        print(
            f"GET /contacts, {RUNS} requests per case after {WARMUP} unmeasured (deep page: the cursor "
            f"reached by following Next {DEEP_PAGES} times); load average {os.getloadavg()[0]:.2f} "
            f"on {os.cpu_count()} CPUs:",
            flush=True,
        )
        target = _time_cases(client, cases, RUNS, WARMUP)
        print(f"Harder filters, {HARD_RUNS} requests each (not in the target):", flush=True)
        hard = _time_cases(client, _hard_cases(), HARD_RUNS, HARD_WARMUP)
        print(f"The imported list's page (GET /lists/{list_id}: its members, newest first):", flush=True)
        hard |= _time_cases(client, {"list_imported": {}}, HARD_RUNS, HARD_WARMUP, path=f"/lists/{list_id}")
    return target, hard


def _hard_cases() -> dict[str, dict[str, str]]:
    largest = _companies(random.Random(SEED))[0]  # what seed() draws first: the most common company (~0.9%)
    return {**HARD_CASES, "company_largest": {"company": largest}}


def matches(dsn: str, list_id: int) -> dict[str, int]:
    """How many contacts each filtered case matches (context for the timings)."""
    cases = {"search": {"q": SEARCH}, "tag": {"tag": TAG}, **_hard_cases(), "list_imported": {"list_id": list_id}}
    counting = select(func.count(Contact.id))
    with psycopg.connect(dsn) as conn:
        return {
            f"{name}_matches": conn.execute(_sql(apply_filter(_filter(params), counting))).fetchone()[0]
            for name, params in cases.items()
        }


def _filter(params: dict[str, Any]) -> ContactFilter:
    return ContactFilter(**{k: v for k, v in params.items() if k != "sort"})


def imported_list(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT id FROM email_lists WHERE name = %s", [IMPORTED_LIST]).fetchone()[0]


def _sql(statement) -> str:
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def main() -> None:
    with services() as dsn:
        print(f"Seeding {CONTACTS:,} contacts ...", flush=True)
        figures: dict[str, float] = {"contacts": CONTACTS, **seed(dsn, CONTACTS)}
        list_id = imported_list(dsn)
        figures.update(matches(dsn, list_id))
        target, hard = time_page(list_id)
    figures.update(hard)
    figures.update(target)
    figures["contacts_page_p95_ms"] = max(v for k, v in target.items() if k.endswith("_p95_ms"))
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
