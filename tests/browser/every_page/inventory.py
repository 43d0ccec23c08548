"""Every page a person can open, for the tests that check them all (accessibility, phone layout).

Paths name the seeded records (tests/support/showcase.py) as {placeholders}. STAFF_PAGES must list
every staff GET route of the app, or NOT_PAGES must say why it is no page (test_inventory.py checks
this), so a new staff page is checked as soon as it exists. ERROR_PAGES are forms sent with bad input:
the page then shows its messages, which have to be as accessible as the form itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from playwright.sync_api import Page, expect

from tests.support.showcase import Showcase


@dataclass(frozen=True)
class Shown:
    """A page as someone sees it: `path` opened (signed in as an admin, or not signed in), then, for
    an error state, `fill` typed into the form and the button named `submit` pressed."""

    name: str
    path: str
    route: str = ""  # the route template it shows, when the path is not that template already
    signed_in: bool = True
    fill: dict[str, str] = field(default_factory=dict)
    submit: str = ""

    def open(self, page: Page, base_url: str, showcase: Showcase) -> None:
        response = page.goto(base_url + showcase.fill(self.path))
        assert response is not None and response.status < 500, f"{self.name}: {response and response.status}"
        if not self.submit:
            return
        # The server's messages are what is checked: the browser's own validation must not stop the form first.
        page.evaluate("document.querySelectorAll('form').forEach((form) => { form.noValidate = true; })")
        for selector, value in self.fill.items():
            page.fill(selector, value)
        page.get_by_role("button", name=re.compile(self.submit)).first.click()
        expect(
            page.locator("[aria-invalid=true], .error-summary, .field-error:not(:empty), .paste-report").first
        ).to_be_visible()


STAFF_PAGES = [
    Shown("dashboard", "/"),
    Shown("campaigns", "/campaigns"),
    Shown("campaign-sent", "/campaigns/{sent}", route="/campaigns/{campaign_id}"),
    Shown("campaign-ready", "/campaigns/{ready}", route="/campaigns/{campaign_id}"),
    Shown("campaign-report", "/campaigns/{sent}/report", route="/campaigns/{campaign_id}/report"),
    Shown("campaign-report-not-sent", "/campaigns/{draft}/report", route="/campaigns/{campaign_id}/report"),
    Shown("campaigns-compare", "/campaigns/compare?campaigns={sent}", route="/campaigns/compare"),
    Shown("campaigns-compare-picker", "/campaigns/compare", route="/campaigns/compare"),
    Shown(  # its form is a GET: the error state is a URL
        "campaigns-compare-too-many",
        "/campaigns/compare?campaigns={sent}&campaigns={ready}&campaigns={draft}&campaigns=999998&campaigns=999999",
        route="/campaigns/compare",
    ),
    Shown("campaign-new", "/campaigns/new"),
    Shown("wizard-details", "/campaigns/{ready}/details", route="/campaigns/{campaign_id}/details"),
    Shown("wizard-audience", "/campaigns/{draft}/audience", route="/campaigns/{campaign_id}/audience"),
    Shown("wizard-content", "/campaigns/{ready}/content", route="/campaigns/{campaign_id}/content"),
    Shown("wizard-settings", "/campaigns/{ready}/settings", route="/campaigns/{campaign_id}/settings"),
    Shown("wizard-review", "/campaigns/{ready}/review", route="/campaigns/{campaign_id}/review"),
    Shown("wizard-review-not-ready", "/campaigns/{draft}/review", route="/campaigns/{campaign_id}/review"),
    Shown("wizard-review-ab-test", "/campaigns/{ab_test}/review", route="/campaigns/{campaign_id}/review"),
    Shown("wizard-ab-test", "/campaigns/{ab_test}/ab-test", route="/campaigns/{campaign_id}/ab-test"),
    Shown("wizard-ab-test-new", "/campaigns/{ready}/ab-test", route="/campaigns/{campaign_id}/ab-test"),
    Shown("campaign-report-ab-test", "/campaigns/{ab_test}/report", route="/campaigns/{campaign_id}/report"),
    Shown("automations", "/automations"),
    Shown("automation-new", "/automations/new"),
    Shown("automation", "/automations/{automation}", route="/automations/{automation_id}"),
    Shown("automation-settings", "/automations/{automation}/settings", route="/automations/{automation_id}/settings"),
    Shown(
        "automation-enrolments", "/automations/{automation}/enrolments", route="/automations/{automation_id}/enrolments"
    ),
    Shown(
        "automation-step-new",
        "/automations/{automation}/steps/new?at=after:vip",
        route="/automations/{automation_id}/steps/new",
    ),
    Shown(
        "automation-step-edit",
        "/automations/{automation}/steps/vip/edit",
        route="/automations/{automation_id}/steps/{step_id}/edit",
    ),
    Shown(
        "automation-step-wait",
        "/automations/{automation}/steps/later/edit",
        route="/automations/{automation_id}/steps/{step_id}/edit",
    ),
    Shown(
        "automation-skip-rule",
        "/automations/{automation}/steps/thank/skip-if",
        route="/automations/{automation_id}/steps/{step_id}/skip-if",
    ),
    Shown("transactional", "/transactional"),
    Shown("transactional-template", "/transactional/{tx_template}", route="/transactional/{template_id}"),
    Shown("contacts", "/contacts"),
    Shown("contacts-filtered", "/contacts?q=ada&status=active", route="/contacts"),
    Shown("contact", "/contacts/{contact}", route="/contacts/{contact_id}"),
    Shown("contact-opted-out", "/contacts/{opted_out}", route="/contacts/{contact_id}"),
    Shown("contact-new", "/contacts/new"),
    Shown("contact-edit", "/contacts/{contact}/edit", route="/contacts/{contact_id}/edit"),
    Shown("contact-erase", "/contacts/{contact}/erase", route="/contacts/{contact_id}/erase"),
    Shown("contact-repermission", "/contacts/{opted_out}/repermission", route="/contacts/{contact_id}/repermission"),
    Shown("imports", "/contacts/import"),
    Shown("import", "/contacts/import/{import}", route="/contacts/import/{job_id}"),
    Shown("suppression", "/suppression"),
    Shown("suppression-remove", "/suppression/{suppression}/remove", route="/suppression/{suppression_id}/remove"),
    Shown("lists", "/lists"),
    Shown("list", "/lists/{list}", route="/lists/{list_id}"),
    Shown("segment-list", "/lists/{segment}", route="/lists/{list_id}"),
    Shown("list-new", "/lists/new"),
    Shown("list-edit", "/lists/{public_list}/edit", route="/lists/{list_id}/edit"),
    Shown("list-delete", "/lists/{list}/delete", route="/lists/{list_id}/delete"),
    Shown("segment-new", "/lists/segments/new"),
    Shown("segment", "/lists/{segment}/segment", route="/lists/{list_id}/segment"),
    Shown("templates", "/templates"),
    Shown("template-new", "/templates/new"),
    Shown("template", "/templates/{template}", route="/templates/{template_id}"),
    Shown("template-delete", "/templates/{template}/delete", route="/templates/{template_id}/delete"),
    Shown("outbox", "/outbox"),
    Shown("outbox-message", "/outbox/{outbox}", route="/outbox/{message_id}"),
    Shown("users", "/settings/users"),
    Shown("audit-log", "/settings/audit-log"),
    Shown("media", "/media"),
    Shown("user-new", "/settings/users/new"),
    Shown("user-edit", "/settings/users/{admin}/edit", route="/settings/users/{user_id}/edit"),
    Shown("account", "/account"),
    Shown("two-step-setup", "/account/two-step"),
    Shown("api-keys", "/settings/api-keys"),
    Shown("api-key-revoke", "/settings/api-keys/{api_key}/revoke", route="/settings/api-keys/{key_id}/revoke"),
    Shown("organisation", "/settings/organisation"),
    Shown("smtp", "/settings/smtp"),
    Shown("smtp-new", "/settings/smtp/new"),
    Shown("smtp-edit", "/settings/smtp/{smtp}/edit", route="/settings/smtp/{server_id}/edit"),
    Shown("smtp-delete", "/settings/smtp/{smtp}/delete", route="/settings/smtp/{server_id}/delete"),
    Shown("routing-rules", "/settings/routing"),
    Shown("routing-rule-new", "/settings/routing/new"),
    Shown("routing-rule-edit", "/settings/routing/{routing_rule}/edit", route="/settings/routing/{rule_id}/edit"),
    Shown("routing-rule-delete", "/settings/routing/{routing_rule}/delete", route="/settings/routing/{rule_id}/delete"),
    Shown("domain-throttles", "/settings/throttles"),
    Shown("transports", "/settings/transports"),
    Shown("providers", "/settings/providers"),
    Shown("provider-new", "/settings/providers/new/ses", route="/settings/providers/new/{kind}"),
    Shown("provider-edit", "/settings/providers/{provider}/edit", route="/settings/providers/{provider_id}/edit"),
    Shown("provider-delete", "/settings/providers/{provider}/delete", route="/settings/providers/{provider_id}/delete"),
    Shown("webhooks", "/settings/webhooks"),
    Shown("webhook-new", "/settings/webhooks/new"),
    Shown("webhook", "/settings/webhooks/{webhook}", route="/settings/webhooks/{endpoint_id}"),
    Shown("webhook-edit", "/settings/webhooks/{webhook}/edit", route="/settings/webhooks/{endpoint_id}/edit"),
    Shown("webhook-delete", "/settings/webhooks/{webhook}/delete", route="/settings/webhooks/{endpoint_id}/delete"),
    Shown("bounce-rules", "/settings/bounces"),
    Shown("feedback-sources", "/settings/feedback-sources"),
    Shown("bounce-mailbox", "/settings/bounce-mailbox"),
    Shown("conversions", "/settings/conversions"),
    Shown("content-check-settings", "/settings/content-check"),
    Shown("seed-mailboxes", "/settings/seed-mailboxes"),
    Shown("seed-mailbox-new", "/settings/seed-mailboxes/new"),
    Shown(
        "seed-mailbox-edit",
        "/settings/seed-mailboxes/{seed_mailbox}/edit",
        route="/settings/seed-mailboxes/{seed_id}/edit",
    ),
    Shown(
        "seed-mailbox-delete",
        "/settings/seed-mailboxes/{seed_mailbox}/delete",
        route="/settings/seed-mailboxes/{seed_id}/delete",
    ),
    Shown("placement-tests", "/campaigns/{sent}/placement-tests", route="/campaigns/{campaign_id}/placement-tests"),
    Shown(
        "placement-test",
        "/campaigns/{sent}/placement-tests/{placement_test}",
        route="/campaigns/{campaign_id}/placement-tests/{test_id}",
    ),
    Shown("scoring", "/scoring"),
    Shown("scoring-rules", "/scoring/rules"),
    Shown(
        "scoring-rule-edit",
        "/scoring/rules/{scoring_rule}/edit",
        route="/scoring/rules/{rule_id}/edit",
    ),
    Shown("warmup", "/warmup"),
    Shown("warmup-new", "/warmup/new"),
    Shown("warmup-plan", "/warmup/{warmup_plan}", route="/warmup/{plan_id}"),
    Shown("warmup-edit", "/warmup/{warmup_plan}/edit", route="/warmup/{plan_id}/edit"),
    Shown("warmup-delete", "/warmup/{warmup_plan}/delete", route="/warmup/{plan_id}/delete"),
    Shown("staff-not-found", "/contacts/999999", route="/contacts/{contact_id}"),
]

# Staff GET routes that answer with something other than a page, and what.
NOT_PAGES = {
    "/campaigns/{campaign_id}/counters": "a partial the campaign page polls",
    "/campaigns/{campaign_id}/deliveries": "a partial of the campaign page (its deliveries table)",
    "/campaigns/{campaign_id}/events": "an event stream",
    "/campaigns/{campaign_id}/report/ab-test": "a partial the report polls while its A/B test runs",
    "/campaigns/{campaign_id}/review/check": "a partial the review step loads (its content check card)",
    "/contacts/field-row": "a partial of the contact form",
    "/contacts/export": "a CSV download",
    "/contacts/{contact_id}/export": "a JSON download",
    "/contacts/import/{job_id}/events": "an event stream",
    "/contacts/import/{job_id}/rejects.csv": "a CSV download",
    "/media/picker": "a partial the template editor loads (its image picker)",
    "/outbox/{message_id}/raw": "the message as plain text",
    "/outbox/{message_id}/raw.eml": "the message as a download",
}

PUBLIC_PAGES = [
    Shown("login", "/login", signed_in=False),
    Shown("forgot-password", "/login/forgot", signed_in=False),
    Shown("two-step-code", "/login/code", signed_in=False),  # without a password first: back to sign-in
    Shown("reset-password", "/login/reset/{reset_token}", route="/login/reset/{token}", signed_in=False),
    Shown("reset-link-expired", "/login/reset/forged", route="/login/reset/{token}", signed_in=False),
    Shown("subscribe", "/subscribe/{public_list}", route="/subscribe/{list_id}", signed_in=False),
    Shown("subscribe-no-list", "/subscribe/999999", route="/subscribe/{list_id}", signed_in=False),
    Shown("confirm", "/subscribe/confirm/{confirm_token}", route="/subscribe/confirm/{token}", signed_in=False),
    Shown("confirm-expired", "/subscribe/confirm/{expired_token}", route="/subscribe/confirm/{token}", signed_in=False),
    Shown("link-not-valid", "/subscribe/confirm/forged", route="/subscribe/confirm/{token}", signed_in=False),
    Shown("preferences", "/u/preferences/{preferences_token}", route="/u/preferences/{token}", signed_in=False),
    Shown("unsubscribe", "/u/unsubscribe/{unsubscribe_token}", route="/u/unsubscribe/{token}", signed_in=False),
    Shown("data-link-expired", "/u/data/{expired_data_token}", route="/u/data/{token}", signed_in=False),
    Shown("archive", "/archive", signed_in=False),
    Shown("not-found", "/no-such-page", route="", signed_in=False),
]

ERROR_PAGES = [
    Shown("contact-form", "/contacts/new", fill={"#email": "not-an-address"}, submit="^Add contact"),
    Shown("contact-erase", "/contacts/{contact}/erase", fill={"#confirm_email": "x@example.com"}, submit="^Erase"),
    Shown("suppression-form", "/suppression", fill={"#email": "nobody"}, submit="^Suppress$"),
    Shown("list-form", "/lists/new", fill={"#name": ""}, submit="^Create list"),
    Shown("list-paste", "/lists/{list}", fill={"#addresses": "nobody"}, submit="^Add to list"),
    Shown("segment-builder", "/lists/segments/new", fill={"#name": ""}, submit="^Create segment"),
    Shown("template-form", "/templates/new", fill={"#name": ""}, submit="^Create template"),
    Shown("wizard-new", "/campaigns/new", fill={"#name": "", "#from_email": "nobody"}, submit="^Next"),
    Shown("wizard-details", "/campaigns/{draft}/details", fill={"#from_email": "nobody"}, submit="^Next"),
    Shown("wizard-audience", "/campaigns/{draft}/audience", submit="^Next"),
    Shown("wizard-content", "/campaigns/{draft}/content", fill={"#html_content": "{{ broken"}, submit="^Next"),
    Shown(
        "wizard-review", "/campaigns/{ready}/review", fill={"#scheduled_time": "2001-01-01T10:00"}, submit="^Schedule"
    ),
    Shown(
        "wizard-ab-test",
        "/campaigns/{ab_test}/ab-test",
        fill={"#variants-1-subject": "{{ broken", "#test_percent": "70"},
        submit="^Save A.B test",  # a "/" would end Playwright's regular expression
    ),
    Shown("automation-form", "/automations/new", fill={"#name": ""}, submit="^Create and add steps"),
    Shown("automation-step-form", "/automations/{automation}/steps/new?at=start", submit="^Save step"),
    Shown("automation-publish", "/automations/{automation}", submit="^Publish version"),
    Shown("automation-enrol", "/automations/{automation}/enrolments", fill={"#email": "nobody"}, submit="^Enrol$"),
    Shown("organisation", "/settings/organisation", fill={"#default_from_email": "nobody"}, submit="^Save settings"),
    Shown("smtp-form", "/settings/smtp/new", fill={"#name": "", "#host": "not a host"}, submit="^Add server"),
    Shown("routing-rule-form", "/settings/routing/new", fill={"#name": "", "#weight-0": "0"}, submit="^Add rule"),
    Shown("throttle-form", "/settings/throttles", fill={"#bucket": "not a domain"}, submit="^Save throttle"),
    Shown(
        "provider-form",
        "/settings/providers/new/mailgun",
        fill={"#name": "", "#domain": "not a domain"},
        submit="^Add provider",
    ),
    Shown("webhook-form", "/settings/webhooks/new", fill={"#url": "ftp://nowhere"}, submit="^Add endpoint"),
    Shown("bounce-rules-form", "/settings/bounces", fill={"#soft_bounce_limit": "0"}, submit="^Save rules"),
    Shown(
        "feedback-sources",
        "/settings/feedback-sources",
        fill={"#ses_topics": "not an arn", "#mailgun_key": "short"},
        submit="^Save feedback sources",
    ),
    Shown(
        "bounce-mailbox-form",
        "/settings/bounce-mailbox",
        fill={"#bounce_address": "not an address", "#host": "not a host!"},
        submit="^Save",
    ),
    Shown("conversions-form", "/settings/conversions", fill={"#window_days": "0"}, submit="^Save$"),
    Shown("content-check-settings-form", "/settings/content-check", fill={"#threshold": "0"}, submit="^Save$"),
    Shown("seed-mailbox-form", "/settings/seed-mailboxes/new", fill={"#email": "nobody"}, submit="^Add seed mailbox"),
    Shown("scoring-rule-form", "/scoring/rules", fill={"#points": "0"}, submit="^Add rule"),
    Shown("scoring-thresholds-form", "/scoring/rules", fill={"#mql": "1"}, submit="^Save thresholds"),
    Shown("warmup-form", "/warmup/new", fill={"#name": "", "#day_3": "-1"}, submit="^Add plan"),
    Shown("user-form", "/settings/users/new", fill={"#email": "nobody", "#password": "short"}, submit="^Create user"),
    Shown("api-key-form", "/settings/api-keys", fill={"#name": ""}, submit="^Create key"),
    Shown(
        "account-password-form",
        "/account",
        fill={"#current_password": "not the password", "#password": "short", "#password_confirm": "other"},
        submit="^Change password",
    ),
    Shown(
        "login-failure",
        "/login",
        signed_in=False,
        fill={"#email": "admin@example.com", "#password": "wrong password"},
        submit="^Sign in",
    ),
    Shown("subscribe", "/subscribe/{public_list}", signed_in=False, fill={"#email": "nobody"}, submit="^Subscribe"),
    Shown("forgot-password", "/login/forgot", signed_in=False, fill={"#email": "nobody"}, submit="^Email me a link"),
    Shown(
        "reset-password",
        "/login/reset/{reset_token}",
        signed_in=False,
        fill={"#password": "short", "#password_confirm": "other"},
        submit="^Save new password",
    ),
]

EVERY_PAGE = STAFF_PAGES + PUBLIC_PAGES + [replace(p, name=p.name + "-errors") for p in ERROR_PAGES]
