"""OpenAPI schema and Swagger UI at /api/docs: every endpoint documented, nothing else exposed."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from webapp.core.assets import static_url

MULTIPART = "multipart/form-data"
ENDPOINTS = {
    # (method, path): (tag, request body schema or None, {status: response schema or None})
    ("post", "/api/contacts"): (
        "contacts",
        "ContactCreate",
        {"201": "ContactOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/contacts"): ("contacts", None, {"200": "ContactPageOut", "400": "ErrorOut"}),
    ("get", "/api/contacts/{contact_id}"): ("contacts", None, {"200": "ContactOut", "404": "ErrorOut"}),
    ("put", "/api/contacts/{contact_id}"): ("contacts", "ContactUpdate", {"200": "ContactOut", "422": "ErrorOut"}),
    ("delete", "/api/contacts/{contact_id}"): ("contacts", None, {"204": None, "404": "ErrorOut"}),
    ("post", "/api/lists"): ("lists", "ListCreate", {"201": "ListOut", "409": "ErrorOut", "422": "ErrorOut"}),
    ("get", "/api/lists"): ("lists", None, {"200": "ListPageOut"}),
    ("get", "/api/lists/{list_id}"): ("lists", None, {"200": "ListOut", "404": "ErrorOut"}),
    ("patch", "/api/lists/{list_id}"): (
        "lists",
        "ListUpdate",
        {"200": "ListOut", "404": "ErrorOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("delete", "/api/lists/{list_id}"): ("lists", None, {"204": None, "404": "ErrorOut", "409": "ErrorOut"}),
    ("post", "/api/lists/{list_id}/count"): ("lists", None, {"200": "SegmentCountOut", "404": "ErrorOut"}),
    ("post", "/api/lists/{list_id}/contacts/{contact_id}"): ("lists", None, {"201": "ListOut", "200": "ListOut"}),
    ("delete", "/api/lists/{list_id}/contacts/{contact_id}"): ("lists", None, {"204": None, "404": "ErrorOut"}),
    ("post", "/api/templates"): ("templates", "TemplateCreate", {"201": "TemplateCreated", "422": "ErrorOut"}),
    ("get", "/api/templates"): ("templates", None, {"200": "TemplatePageOut", "400": "ErrorOut"}),
    ("get", "/api/templates/{template_id}"): ("templates", None, {"200": "TemplateOut", "404": "ErrorOut"}),
    ("put", "/api/templates/{template_id}"): (
        "templates",
        "TemplateUpdate",
        {"200": "TemplateCreated", "404": "ErrorOut", "422": "ErrorOut"},
    ),
    ("delete", "/api/templates/{template_id}"): ("templates", None, {"204": None, "404": "ErrorOut"}),
    ("post", "/api/campaigns"): ("campaigns", "CampaignCreate", {"201": "CampaignDetailOut", "422": "ErrorOut"}),
    ("get", "/api/campaigns"): ("campaigns", None, {"200": "CampaignPageOut"}),
    ("get", "/api/campaigns/{campaign_id}"): ("campaigns", None, {"200": "CampaignDetailOut", "404": "ErrorOut"}),
    ("put", "/api/campaigns/{campaign_id}"): (
        "campaigns",
        "CampaignUpdate",
        {"200": "CampaignDetailOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("delete", "/api/campaigns/{campaign_id}"): ("campaigns", None, {"204": None, "409": "ErrorOut"}),
    ("post", "/api/campaigns/{campaign_id}/schedule"): (
        "campaigns",
        "ScheduleIn",
        {"200": "CampaignDetailOut", "422": "ErrorOut"},
    ),
    ("post", "/api/campaigns/{campaign_id}/send"): (
        "campaigns",
        None,
        {"202": "CampaignDetailOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("post", "/api/campaigns/{campaign_id}/content-check"): (
        "campaigns",
        None,
        {"200": "ContentCheckOut", "404": "ErrorOut", "422": "ErrorOut"},
    ),
    **{
        ("post", f"/api/campaigns/{{campaign_id}}/{action}"): (
            "campaigns",
            None,
            {"200": "CampaignDetailOut", "409": "ErrorOut"},
        )
        for action in ("pause", "resume", "cancel")
    },
    ("post", "/api/campaigns/{campaign_id}/duplicate"): ("campaigns", None, {"201": "CampaignDetailOut"}),
    ("post", "/api/campaigns/{campaign_id}/resend-to-non-openers"): (
        "campaigns",
        None,
        {"201": "CampaignDetailOut", "409": "ErrorOut"},
    ),
    ("put", "/api/campaigns/{campaign_id}/archive"): (
        "campaigns",
        "ArchiveIn",
        {"200": "CampaignDetailOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/campaigns/{campaign_id}/emails"): ("campaigns", None, {"200": "EmailPageOut", "404": "ErrorOut"}),
    ("post", "/api/suppression"): (
        "suppression",
        "SuppressionCreate",
        {"201": "SuppressionOut", "200": "SuppressionOut", "422": "ErrorOut"},
    ),
    ("post", "/api/suppression/bulk"): (
        "suppression",
        "SuppressionBulkIn",
        {"200": "SuppressionBulkOut", "422": "ErrorOut"},
    ),
    ("get", "/api/suppression"): ("suppression", None, {"200": "SuppressionPageOut", "400": "ErrorOut"}),
    ("get", "/api/suppression/check"): ("suppression", None, {"200": "SuppressionCheckOut", "422": "ErrorOut"}),
    ("get", "/api/suppression/stats"): ("suppression", None, {"200": "SuppressionStatsOut"}),
    ("delete", "/api/suppression/{email}"): ("suppression", None, {"204": None, "404": "ErrorOut", "422": "ErrorOut"}),
    ("get", "/api/contacts/{contact_id}/export"): ("contacts", None, {"200": "ContactExportOut", "404": "ErrorOut"}),
    ("post", "/api/contacts/{contact_id}/erase"): ("contacts", None, {"200": "ErasureOut", "404": "ErrorOut"}),
    ("post", "/api/contacts/{contact_id}/repermission"): (
        "contacts",
        "RepermissionRequest",
        {"202": "RepermissionOut", "409": "ErrorOut", "422": "ErrorOut", "429": "ErrorOut"},
    ),
    ("post", "/api/contacts/import"): ("contacts", MULTIPART, {"202": "ImportJobOut", "422": "ErrorOut"}),
    ("get", "/api/contacts/import/{job_id}"): ("contacts", None, {"200": "ImportJobOut", "404": "ErrorOut"}),
    ("get", "/api/media"): ("media", None, {"200": "MediaPageOut"}),
    ("post", "/api/media"): ("media", MULTIPART, {"201": "MediaFileOut", "422": "ErrorOut"}),
    ("delete", "/api/media/{file_id}"): ("media", None, {"204": None, "404": "ErrorOut", "409": "ErrorOut"}),
    ("get", "/api/contacts/export"): ("contacts", None, {"404": "ErrorOut"}),  # 200 is text/csv
    # 200 is a list of DailyAnalyticsOut
    ("get", "/api/campaigns/{campaign_id}/analytics"): ("analytics", None, {"404": "ErrorOut", "422": "ErrorOut"}),
    ("get", "/api/stats"): ("analytics", None, {"200": "StatsOut"}),
    ("post", "/api/conversions"): (
        "conversions",
        "ConversionIn",
        {"201": "ConversionOut", "200": "ConversionOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/campaigns/{campaign_id}/revenue"): ("conversions", None, {"404": "ErrorOut"}),
    ("post", "/api/ab-tests"): (
        "ab-tests",
        "AbTestCreate",
        {"201": "AbTestDetailOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/ab-tests"): ("ab-tests", None, {"200": "AbTestPageOut"}),
    ("get", "/api/ab-tests/{ab_test_id}"): ("ab-tests", None, {"200": "AbTestDetailOut", "404": "ErrorOut"}),
    ("delete", "/api/ab-tests/{ab_test_id}"): ("ab-tests", None, {"204": None, "404": "ErrorOut", "409": "ErrorOut"}),
    ("post", "/api/ab-tests/{ab_test_id}/winner"): (
        "ab-tests",
        "WinnerIn",
        {"200": "AbTestDetailOut", "404": "ErrorOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("post", "/api/campaigns/{campaign_id}/placement-tests"): (
        "placement",
        "PlacementTestInput",
        {"201": "PlacementTestOut", "404": "ErrorOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/campaigns/{campaign_id}/placement-tests"): ("placement", None, {"404": "ErrorOut"}),  # 200: a list
    ("get", "/api/placement-tests/{placement_test_id}"): (
        "placement",
        None,
        {"200": "PlacementTestOut", "404": "ErrorOut"},
    ),
    ("post", "/api/automations"): ("automations", "AutomationCreate", {"201": "AutomationOut", "422": "ErrorOut"}),
    ("get", "/api/automations"): ("automations", None, {"200": "AutomationPageOut"}),
    ("get", "/api/automations/{automation_id}"): (
        "automations",
        None,
        {"200": "AutomationOut", "404": "ErrorOut"},
    ),
    ("patch", "/api/automations/{automation_id}"): (
        "automations",
        "AutomationUpdate",
        {"200": "AutomationOut", "404": "ErrorOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("delete", "/api/automations/{automation_id}"): ("automations", None, {"204": None, "404": "ErrorOut"}),
    ("post", "/api/automations/{automation_id}/publish"): (
        "automations",
        "PublishIn",
        {"200": "AutomationOut", "404": "ErrorOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("post", "/api/automations/{automation_id}/pause"): (
        "automations",
        None,
        {"200": "AutomationOut", "404": "ErrorOut", "409": "ErrorOut"},
    ),
    ("post", "/api/automations/{automation_id}/resume"): (
        "automations",
        None,
        {"200": "AutomationOut", "404": "ErrorOut", "409": "ErrorOut"},
    ),
    ("post", "/api/automations/{automation_id}/enrolments"): (
        "automations",
        "EnrolIn",
        {"200": "EnrolledOut", "404": "ErrorOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/automations/{automation_id}/enrolments"): (
        "automations",
        None,
        {"200": "EnrolmentPageOut", "404": "ErrorOut"},
    ),
    ("delete", "/api/automations/{automation_id}/enrolments/{contact_id}"): (
        "automations",
        None,
        {"204": None, "404": "ErrorOut"},
    ),
    ("post", "/api/events"): (
        "events",
        "EventIn",
        {"201": "EventOut", "200": "EventOut", "409": "ErrorOut", "422": "ErrorOut"},
    ),
    ("get", "/api/contacts/{contact_id}/events"): ("events", None, {"200": "EventPageOut", "404": "ErrorOut"}),
    ("post", "/api/tx"): (
        "transactional",
        "TxIn",
        {"200": "TxOut", "202": "TxOut", "409": "ErrorOut", "422": "ErrorOut", "429": "ErrorOut"},
    ),
    ("get", "/api/tx/{tx_id}"): ("transactional", None, {"200": "TxOut", "404": "ErrorOut"}),
    ("get", "/api/scoring/rules"): ("scoring", None, {}),  # 200: a list of RuleOut
    ("post", "/api/scoring/rules"): ("scoring", "RuleIn", {"201": "RuleOut", "422": "ErrorOut"}),
    ("get", "/api/scoring/rules/{rule_id}"): ("scoring", None, {"200": "RuleOut", "404": "ErrorOut"}),
    ("patch", "/api/scoring/rules/{rule_id}"): (
        "scoring",
        "RuleUpdate",
        {"200": "RuleOut", "404": "ErrorOut", "422": "ErrorOut"},
    ),
    ("delete", "/api/scoring/rules/{rule_id}"): ("scoring", None, {"204": None, "404": "ErrorOut"}),
    ("get", "/api/scoring/contacts/{contact_id}"): ("scoring", None, {"200": "ScoreOut", "404": "ErrorOut"}),
    # 200: a list of HistoryOut
    ("get", "/api/scoring/contacts/{contact_id}/history"): (
        "scoring",
        None,
        {"200": "HistoryPageOut", "404": "ErrorOut"},
    ),
    ("post", "/api/scoring/contacts/{contact_id}/recalculate"): (
        "scoring",
        None,
        {"200": "ScoreOut", "404": "ErrorOut"},
    ),
    ("post", "/api/scoring/contacts/{contact_id}/points"): (
        "scoring",
        "PointsIn",
        {"200": "ScoreOut", "404": "ErrorOut", "422": "ErrorOut"},
    ),
    ("put", "/api/scoring/contacts/{contact_id}/stage"): (
        "scoring",
        "StageIn",
        {"200": "ScoreOut", "404": "ErrorOut", "422": "ErrorOut"},
    ),
    ("post", "/api/scoring/recalculate"): ("scoring", None, {"202": "RecalculationOut"}),
    ("get", "/api/scoring/leaderboard"): ("scoring", None, {"200": "LeaderboardPageOut"}),
    ("get", "/api/scoring/lifecycle"): ("scoring", None, {"200": "LifecycleOut"}),
    ("get", "/api/warmup-plans"): ("warmup", None, {}),  # 200: a list of PlanOut
    ("post", "/api/warmup-plans"): ("warmup", "PlanInput", {"201": "PlanOut", "422": "ErrorOut"}),
    ("get", "/api/warmup-plans/{plan_id}"): ("warmup", None, {"200": "PlanOut", "404": "ErrorOut"}),
    ("put", "/api/warmup-plans/{plan_id}"): (
        "warmup",
        "PlanInput",
        {"200": "PlanOut", "404": "ErrorOut", "422": "ErrorOut"},
    ),
    ("post", "/api/warmup-plans/{plan_id}/release"): (
        "warmup",
        None,
        {"200": "PlanOut", "404": "ErrorOut", "409": "ErrorOut"},
    ),
    ("delete", "/api/warmup-plans/{plan_id}"): ("warmup", None, {"204": None, "404": "ErrorOut"}),
}


@pytest.fixture(scope="module")
def schema(live_server) -> dict:
    response = httpx.get(live_server + "/api/docs/openapi.json")  # no key needed for the docs
    assert response.status_code == 200
    return response.json()


def ref(content: dict) -> str:
    return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def test_every_endpoint_is_documented_with_its_shapes(schema):
    operations = {(m, p): op for p, item in schema["paths"].items() for m, op in item.items()}
    assert set(operations) == set(ENDPOINTS)  # only the API: no UI, health or static routes
    for key, (tag, request, responses) in ENDPOINTS.items():
        op = operations[key]
        assert op["tags"] == [tag], key
        assert op["summary"], key
        assert op["security"] == [{"BearerAuth": []}], key
        if request == MULTIPART:  # an upload: its fields are checked in test_api_document.py
            assert list(op["requestBody"]["content"]) == [MULTIPART], key
        elif request:
            assert op["requestBody"]["required"] is True
            assert ref(op["requestBody"]["content"]) == request, key
        else:
            assert "requestBody" not in op, key
        for status, body in responses.items():
            if body:
                assert ref(op["responses"][status]["content"]) == body, (key, status)
            else:
                assert status in op["responses"] and "content" not in op["responses"][status]
        for status in ("400", "401", "403"):
            assert ref(op["responses"][status]["content"]) == "ErrorOut", (key, status)


def test_schemas_have_the_seed_fields(schema):
    schemas = schema["components"]["schemas"]
    contact = schemas["ContactOut"]["properties"]
    assert set(contact) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "company",
        "job_title",
        "location",
        "tags",
        "custom_fields",
        "is_active",
        "status",
        "language",
        "date_added",
        "last_updated",
        "email_stats",
    }
    assert set(schemas["EmailStatsOut"]["properties"]) == {
        "emails_sent",
        "emails_opened",
        "emails_clicked",
        "last_opened",
        "last_clicked",
    }
    daily = {"emails_sent", "emails_delivered", "emails_opened", "emails_clicked", "emails_bounced"}
    assert daily | {"emails_unsubscribed", "open_rate", "click_rate", "bounce_rate", "unsubscribe_rate", "date"} <= set(
        schemas["DailyAnalyticsOut"]["properties"]
    )
    assert {"total_contacts", "active_contacts", "total_campaigns", "overall_open_rate", "overall_click_rate"} <= set(
        schemas["StatsOut"]["properties"]
    )
    assert contact["id"]["type"] == "integer"
    assert contact["date_added"] == {"type": "string", "format": "date-time"}
    assert schemas["ContactCreate"]["required"] == ["email"]
    assert not schemas["ContactUpdate"].get("required")
    assert set(schemas["ListOut"]["properties"]) == {
        "id",
        "name",
        "description",
        "list_type",
        "contact_count",
        "tags",
        "created_by",
        "created_at",
        "updated_at",
        "is_active",
        "rules",
        "parent_list_id",
        "counted_at",
        "is_public",
        "double_opt_in",
        "consent_text",
    }
    assert schemas["ListCreate"]["required"] == ["name"]
    assert schemas["ListType"]["enum"] == ["static", "dynamic", "segmented"]
    assert set(schemas["ErrorOut"]["properties"]) == {"status_code", "detail", "errors", "existing_id"}
    page = schemas["ContactPageOut"]["properties"]
    assert set(page) == {"items", "next_cursor"}
    assert schemas["AbTestCreate"]["required"] == ["campaign_id", "variants"]
    assert {"rate", "interval_low", "interval_high", "p_value", "probability_best"} <= set(
        schemas["VariantStatisticsOut"]["properties"]
    )
    assert {"ab_test_id", "variants"} <= set(schemas["CampaignDetailOut"]["properties"])
    for written in ("CampaignCreate", "CampaignUpdate"):  # the range the server enforces, stated
        template_id = json.dumps(schemas[written]["properties"]["template_id"])
        assert '"minimum": 1' in template_id and '"maximum": 9223372036854775807' in template_id, template_id


def test_query_and_path_parameters_are_documented(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/contacts"]["get"]["parameters"]}
    assert set(params) == {"company", "tags", "is_active", "status", "q", "limit", "cursor"}
    assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["maximum"] == 500
    assert all(p["description"] for p in params.values())
    lists = {p["name"] for p in schema["paths"]["/api/lists"]["get"]["parameters"]}
    assert lists == {"list_type", "created_by", "is_active", "limit", "cursor"}
    member = schema["paths"]["/api/lists/{list_id}/contacts/{contact_id}"]["post"]["parameters"]
    assert {(p["name"], p["in"], p["schema"]["type"]) for p in member} == {
        ("list_id", "path", "integer"),
        ("contact_id", "path", "integer"),
    }


def test_bearer_security_scheme(schema):
    assert schema["components"]["securitySchemes"] == {"BearerAuth": {"type": "http", "scheme": "bearer"}}


def test_swagger_ui_loads_from_vendored_files(live_server):
    page = httpx.get(live_server + "/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert static_url("vendor/swagger-ui/swagger-ui-bundle.js") in assets  # with the file's content hash
    assert static_url("vendor/swagger-ui/swagger-ui.css") in assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]  # nothing from a CDN
    for asset in assets:
        if asset.startswith("/static/"):
            response = httpx.get(live_server + asset)
            assert response.status_code == 200 and response.content, asset
