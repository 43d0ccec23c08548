"""Where a send worker's event loop spends its time, by stage of the send path, from py-spy samples.

    py-spy record -p <worker pid> -d 20 -r 100 -f raw -o send.prof   # while bench/send.py sends
    python bench/_send_profile.py send.prof [more.prof ...]

Counted: the event loop thread, and the thread that builds and signs a batch's messages (Dramatiq's
worker threads only wait for the loop). A sample goes to the first stage whose code is on its stack,
in the order below; "asyncio" is the event loop's own work (selecting, scheduling) and "other" the
rest (psycopg, SQLAlchemy, Redis outside a stage).
Not a bench: the Makefile skips bench/_*.py.
"""

from __future__ import annotations

import sys
from collections import Counter

STAGES = [
    ("DKIM signing", ("delivery/dkim.py", "dkim/")),
    ("MIME (compose.py)", ("compose.py",)),
    ("message assembly (campaign_message.py: links, tokens, headers)", ("campaign_message.py",)),
    ("claim (and preparing the campaign)", ("_claim (webapp", "prepared_campaign")),
    ("record (outcomes, counters, webhooks, progress)", ("record (webapp/delivery/pipeline.py", "record_outcomes")),
    ("render (waiting for the renderer processes)", ("_render_all", "renderer.py")),
    ("routing: health record, transport order, domain throttles", ("routed.py", "routing/service/")),
    ("SMTP dialogue", ("aiosmtplib", "ServerPool", "smtp_session", "Mailer.send", "smtp_config.py")),
    ("failure counter, heartbeat, Redis", ("failures.py", "keep_alive", "redis/")),
    ("pipeline bookkeeping", ("pipeline.py",)),
    ("asyncio", ("asyncio/",)),
]


def breakdown(paths: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in paths:
        with open(path) as samples:
            for line in samples:
                stack, _, n = line.rstrip().rpartition(" ")
                if "EventLoopThread.run (" not in stack and "campaign_message.py" not in stack:
                    continue
                stage = next((name for name, keys in STAGES if any(k in stack for k in keys)), "other")
                counts[stage] += int(n)
    return counts


def main() -> None:
    counts = breakdown(sys.argv[1:])
    total = sum(counts.values())
    print(f"samples: {total}")
    for stage, n in counts.most_common():
        print(f"{100 * n / total:5.1f} %  {stage}")


if __name__ == "__main__":
    main()
