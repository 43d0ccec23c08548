"""A realistic Mailroom, seeded once for tests that visit every page (accessibility, phone layout):
something in every table, so each page shows its full layout (tables, badges, pagers, forms with
values) rather than its empty state."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import create_user
from tests.support.analytics import audience_movement, sent_campaign_activity
from tests.support.campaigns import HTML, audience, ready_campaign, smtp_server
from tests.support.outbox import captured_campaign_message
from tests.support.subscriptions import public_list
from tests.support.transactional import tx_message
from tests.support.warmup import plan_form
from webapp.abtests import service as abtests
from webapp.automations.service import automations
from webapp.automations.service import enrolments as automation_enrolments
from webapp.campaigns.service import campaigns
from webapp.contact_events import service as contact_events
from webapp.contact_events.service import NewEvent
from webapp.contacts import service as contacts
from webapp.core.tokens import make_token
from webapp.imports.models import ImportJob, ImportReject
from webapp.lists.service import lists
from webapp.media import service as media
from webapp.placement import queries as placement_queries
from webapp.placement.service import placement
from webapp.placement.service import seeds as seed_mailboxes
from webapp.providers import service as providers
from webapp.routing.models import TransportHour
from webapp.routing.service import rules as routing_rules
from webapp.routing.service import throttles as domain_throttles
from webapp.scoring import service as scoring
from webapp.scoring.service import rules as scoring_rules
from webapp.staff.service import api_keys, password_reset
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.subscriptions.service.tokens import confirm_token, data_token, preferences_token
from webapp.suppression.service import suppression
from webapp.templates.service import templates
from webapp.warmup import service as warmup_plans
from webapp.webhooks.service import endpoints as webhook_endpoints
from webapp.webhooks.service import outbox as webhook_outbox

ADMIN_EMAIL = "admin@example.com"
# An automation's live flow: a tag, a wait, a condition with a step in each branch, and a goal.
AUTOMATION_FLOW = [
    {"id": "welcome", "type": "tag", "tags": ["welcomed"]},
    {"id": "pause", "type": "wait", "duration": {"days": 2}},
    {
        "id": "vip",
        "type": "condition",
        "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]},
        "yes": [{"id": "thank", "type": "tag", "tags": ["thanked"], "skip_if": None}],
        "no": [{"id": "later", "type": "wait", "weekdays": [2, 4], "time": "09:30"}],
    },
    {
        "id": "bought",
        "type": "goal",
        "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["customer"]}]},
    },
]


@dataclass(frozen=True)
class SeededPlacement:
    seed_id: int
    test_id: int


async def placement_test_with_results(session: AsyncSession, campaign_id: int) -> SeededPlacement:
    """Two seeds and a finished placement test of the campaign: one copy in the inbox, one in spam."""
    imap = {"host": "imap.gmail.com", "port": "993", "tls_mode": "tls", "password": "app-password", "is_active": "on"}
    gmail = await seed_mailboxes.create_seed(
        session, imap | {"name": "Gmail 1", "provider": "gmail", "email": "seed1@gmail.com", "username": "seed1"}
    )
    await seed_mailboxes.create_seed(
        session,
        imap
        | {"name": "Outlook 1", "provider": "outlook", "email": "seed1@outlook.com", "username": "seed1@outlook.com"}
        | {"host": "outlook.office365.com"},
    )
    test = await placement.start(session, campaign_id, {})
    now = datetime.now(UTC)
    inbox, spam = await placement_queries.copies(session, test.id)
    verdicts = {"dkim": "pass", "spf": "pass", "dmarc": "pass"}
    for copy, folder, where in ((inbox, "INBOX", "inbox"), (spam, "Junk Email", "spam")):
        copy.status, copy.folder, copy.placement, copy.authentication = "arrived", folder, where, verdicts
        copy.sent_at, copy.arrived_at = now, now
    test.status, test.finished_at = "done", now
    await session.flush()
    return SeededPlacement(gmail.id, test.id)


@dataclass(frozen=True)
class Showcase:
    """The ids and signed links the pages of the seeded site are reached by."""

    ids: dict[str, int | str]

    def fill(self, path: str) -> str:
        return path.format(**self.ids)


async def seed(session: AsyncSession, base_url: str) -> Showcase:
    admin = await create_user(session, "admin", email=ADMIN_EMAIL)
    await create_user(session, "editor")
    viewer = await create_user(session, "viewer")
    key, _ = await api_keys.create_key(session, {"name": "CRM sync", "role": "editor"}, admin.id)

    # A sent campaign with its message in the outbox (and an organisation name and postal address).
    sent = await captured_campaign_message(session, base_url, "https://example.com/offer")
    # Its one recipient reported it as spam: the campaign page and Settings -> Bounces and complaints warn.
    # It is in the public archive.
    await session.execute(
        text("""UPDATE campaigns SET complained_count = 1, started_at = now(),
                                     settings = settings || '{"archive": true}' WHERE id = :c"""),
        {"c": sent.campaign_id},
    )
    customers = await audience(session, 60, name="Customers")  # more contacts than one page of the table
    await session.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, error_message)
                SELECT :c, id, email, 'failed', '550 5.1.1 mailbox unavailable'
                FROM contacts WHERE email LIKE 'person1_@example.com'"""),
        {"c": sent.campaign_id},
    )
    await sent_campaign_activity(session, sent.campaign_id, ["https://example.com/offer", "https://example.com/news"])
    # Orders credited to it: the report's revenue, in two currencies.
    await session.execute(
        text("""INSERT INTO conversions (order_id, amount, currency, occurred_at, source, campaign_id)
                VALUES ('SHOW-1', 49.90, 'EUR', now(), 'api', :c), ('SHOW-2', 120, 'USD', now(), 'api', :c)"""),
        {"c": sent.campaign_id},
    )
    await audience_movement(session)
    ada = await contacts.create_contact(
        session,
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "tags": ["vip", "beta"],
            "custom_fields": {"plan": "pro", "seats": 12},
        },
    )
    gone = await contacts.create_contact(session, {"email": "gone@example.com", "status": "unsubscribed"})
    # Lead scoring: rules, a custom event and points, then everyone scored (the leaderboard, its chart, Ada's page).
    purchase_rule = await scoring_rules.create(
        session, {"name": "Purchase", "event": "custom", "event_name": "purchase", "points": 25, "daily_limit": 3}
    )
    await scoring_rules.create(session, {"name": "Opened an email", "event": "open", "points": 2})
    await contact_events.record(session, [NewEvent(ada.id, "purchase", {"sku": "B-7", "total": 49.9})])
    await scoring.add_points(session, [ada.id], 40, "Booked a demo")
    await scoring.recompute_all(session)
    await lists.add_members(session, customers.id, [ada.id])
    segment = await lists.create_list(
        session,
        {
            "name": "VIP customers",
            "list_type": "segmented",
            "parent_list_id": customers.id,
            "rules": {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]},
        },
        created_by=ADMIN_EMAIL,
    )
    newsletter = await public_list(session, "Newsletter")
    pending = await subscriptions.subscribe(
        session,
        await subscriptions.public_list(session, newsletter.id),
        {"email": "new@example.com"},
        Origin("page"),
        "en",
    )
    template = await templates.create_template(
        session,
        {"name": "Monthly news", "subject": "News for {{ first_name }}", "html_content": HTML, "tags": ["news"]},
        created_by=ADMIN_EMAIL,
    )
    # An image in the media library.
    logo = io.BytesIO()
    Image.new("RGB", (160, 40), "navy").save(logo, "PNG")
    await media.upload(session, logo.getvalue(), "logo.png", "Mailroom logo", "Admin")
    # A transactional template with a message sent and one waiting (Transactional's pages).
    receipt = await templates.create_template(
        session,
        {
            "name": "Order receipt",
            "subject": "Order {{ order_id }}",
            "html_content": HTML,
            "template_type": "transactional",
        },
        created_by=ADMIN_EMAIL,
    )
    opened = await tx_message(session, key.id, receipt.template.id, ada.email, {"order_id": "A-17"})
    await tx_message(session, key.id, receipt.template.id, "guest@example.com", {"order_id": "A-18"})
    await session.execute(
        text("UPDATE deliveries SET status = 'opened', sent_at = now(), opened_at = now() WHERE tx_message_id = :m"),
        {"m": opened},
    )
    draft = await campaigns.create_campaign(session, {"name": "Spring sale"}, created_by=ADMIN_EMAIL)
    ready = await ready_campaign(session, [customers.id], name="Summer news")
    # A draft that is an A/B test: its wizard step with three variants, its summary and its report's section.
    ab_test = await ready_campaign(session, [customers.id], name="Autumn offer")
    await abtests.save_test(
        session,
        ab_test.id,
        {
            "variants": [
                {"label": "A"},
                {"label": "B", "subject": "Last chance!"},
                {"label": "C", "preheader": "2 days"},
            ],
            "criterion": "clicks",
        },
    )
    # A live automation with contacts in it, and a draft that adds an email: the publish card asks about them.
    automation = await automations.create(
        session,
        {
            "name": "Welcome series",
            "trigger": {"kind": "list_joined", "list_id": customers.id},
            "reentry": "every_n_days",
            "reentry_days": 90,
            "steps": AUTOMATION_FLOW,
        },
    )
    await automations.publish(session, automation.id)
    await automation_enrolments.enrol(session, automation.id, [ada.id])
    email_step = {"id": "news", "type": "send_email", "template_id": template.template.id, "subject": "Hello"}
    await automations.update_draft(session, automation.id, {"steps": [*AUTOMATION_FLOW, email_step]})
    entry = await suppression.add(session, "bounced@example.com", "bounce", note="550 mailbox unavailable")
    await suppression.add(session, "gone@example.com", "unsubscribe")
    server = await smtp_server(session, 2525, name="Office relay")
    warmup_plan = await warmup_plans.create_plan(
        session, plan_form(name="New relay IP", scope="smtp_server", smtp_server_id=server.id, from_domain="")
    )
    warmup_plan.held_at = datetime.now(UTC)
    warmup_plan.held_reason = "The bounce rate reached 6.0 % (12 of 200 messages); the plan holds back from 5 %."
    routing_rule = await routing_rules.create_rule(
        session,
        {
            "name": "Microsoft via the office relay",
            "domains": "microsoft",
            "targets": [{"transport": f"smtp:{server.id}", "weight": 1}],
        },
    )
    await domain_throttles.save_throttle(session, {"bucket": "google", "per_minute": 3000})
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    session.add_all(
        TransportHour(
            transport=f"smtp:{server.id}",
            hour=this_hour - timedelta(hours=h),
            sent=120 * h,
            deferred=h,
            errors=h % 2,
            bounced=2,
            complained=h % 3,
            latency_ms=300 * h,
            timed=h,
        )
        for h in range(1, 6)
    )
    provider = await providers.create_provider(
        session,
        {
            "name": "Postmark broadcasts",
            "kind": "postmark",
            "batch_size": 500,
            "rate_per_second": 0,
            "rate_per_hour": 0,
            "rate_per_day": 0,
            "max_connections": 4,
            "priority": 1,
            "message_stream": "broadcast",
            "server_token": "showcase-token",
        },
    )
    webhook, _ = await webhook_endpoints.create_endpoint(
        session,
        {"url": "https://93.184.215.14/hooks/mailroom", "description": "CRM", "event_types": ["contact.created"]},
    )
    await webhook_outbox.emit(session, "contact.created", {"contact_id": ada.id, "email": ada.email})
    placement_test = await placement_test_with_results(session, sent.campaign_id)
    job = ImportJob(
        status="done",
        filename="contacts.csv",
        stored_name="seeded.csv",
        file_format="csv",
        headers=["email", "first_name"],
        mapping=["email", "first_name"],
        total=3,
        processed=3,
        inserted=2,
        rejected=1,
        created_by=ADMIN_EMAIL,
        started_at=datetime.now(UTC),
        finished_at=datetime.now(UTC),
    )
    session.add(job)
    await session.flush()
    session.add(ImportReject(job_id=job.id, line=3, kind="rejected", email="not-an-address", reason="Not an address."))
    await session.flush()
    return Showcase(
        {
            "admin": admin.id,
            "api_key": key.id,
            "sent": sent.campaign_id,
            "draft": draft.id,
            "ready": ready.id,
            "ab_test": ab_test.id,
            "automation": automation.id,
            "contact": ada.id,
            "scoring_rule": purchase_rule.id,
            "opted_out": gone.id,
            "list": customers.id,
            "segment": segment.id,
            "public_list": newsletter.id,
            "template": template.template.id,
            "tx_template": receipt.template.id,
            "suppression": entry.suppression.id,
            "smtp": server.id,
            "warmup_plan": warmup_plan.id,
            "routing_rule": routing_rule.id,
            "provider": provider.id,
            "webhook": webhook.id,
            "seed_mailbox": placement_test.seed_id,
            "placement_test": placement_test.test_id,
            "import": job.id,
            "outbox": sent.outbox_id,
            "unsubscribe_token": make_token("unsubscribe", sent.delivery_id),
            "preferences_token": preferences_token(ada.id),
            "expired_data_token": data_token(ada.id, issued_at=0),
            "confirm_token": confirm_token(pending.pending_id or 0, newsletter.id),
            "expired_token": confirm_token(pending.pending_id or 0, newsletter.id, issued_at=0),
            "reset_token": password_reset.reset_token(viewer),
        }
    )
