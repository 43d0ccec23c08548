"""Staff UI: Settings → Seed mailboxes (admins only: their IMAP credentials), and a campaign's inbox
placement tests: editors start one from the campaign's page, everyone reads its results."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.service import campaigns
from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.placement.actors import send_placement_copies
from webapp.placement.models import SeedMailbox
from webapp.placement.schemas import DEFAULT_WAIT_MINUTES, IMAP_TLS_MODES, PROVIDERS
from webapp.placement.service import placement, seeds
from webapp.placement.service.imap import ConnectionFailed

PATH = "/settings/seed-mailboxes"
TEXT_FIELDS = ["name", "provider", "email", "host", "port", "tls_mode", "username", "spam_folder"]
FLAGS = ["is_active", "allow_private"]
NO_STORE = {"Cache-Control": "no-store"}
NEW_SEED: dict[str, Any] = {"provider": "gmail", "port": 993, "tls_mode": "tls", "is_active": True}


def _form(
    seed: SeedMailbox | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    test: tuple[str, str] | None = None,  # (outcome: "success" | "error", message)
) -> Template:
    context = {
        "seed": seed,
        "values": {"password": ""} | values,
        "errors": errors,
        "test": test,
        "providers": list(PROVIDERS.items()),
        "tls_modes": list(IMAP_TLS_MODES.items()),
    }
    # A password typed comes back in its field after a test or a refusal: never stored by a cache.
    return Template("placement/seed_form.html", context=context, status_code=status_code, headers=NO_STORE)


def _typed(form: FormFields) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed, shown back when it is refused or tested (the password too, in a response
    no cache keeps: not typed twice), and the data to load."""
    typed: dict[str, Any] = {name: first(form, name) for name in TEXT_FIELDS} | {name: name in form for name in FLAGS}
    typed["password"] = first(form, "password")
    return typed, dict(typed)


class SeedMailboxesController(Controller):
    path = PATH
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="seed_mailboxes")
    async def index(self, db: Db) -> Template:
        return Template("placement/seeds.html", context={"seeds": await seeds.list_seeds(db), "providers": PROVIDERS})

    @get("/new")
    async def new(self) -> Template:
        return _form(None, NEW_SEED, {})

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        typed, data = _typed(await read_form(request))
        try:
            seed = await seeds.create_seed(db, data)
        except ValidationFailed as exc:
            return _form(None, typed, field_errors(exc), status_code=422)
        flash(request, f"Seed mailbox {seed.name} added.", "success")
        return after_change(request, PATH)

    @get("/{seed_id:int}/edit")
    async def edit(self, db: Db, seed_id: FromPath[int]) -> Template:
        seed = await seeds.get_seed(db, seed_id)
        return _form(seed, {name: getattr(seed, name) for name in TEXT_FIELDS + FLAGS}, {})

    @post("/{seed_id:int}/edit")
    async def update(self, request: StaffRequest, db: Db, seed_id: FromPath[int]) -> AnyResponse:
        seed = await seeds.get_seed(db, seed_id)
        typed, data = _typed(await read_form(request))
        try:
            await seeds.update_seed(db, seed_id, data)
        except ValidationFailed as exc:
            return _form(seed, typed, field_errors(exc), status_code=422)
        flash(request, f"Seed mailbox {seed.name} saved.", "success")
        return after_change(request, PATH)

    @post("/test")
    async def test_new(self, request: StaffRequest, db: Db) -> Template:
        return await self._test(request, db, None)

    @post("/{seed_id:int}/test")
    async def test_saved(self, request: StaffRequest, db: Db, seed_id: FromPath[int]) -> Template:
        return await self._test(request, db, await seeds.get_seed(db, seed_id))

    async def _test(self, request: StaffRequest, db: AsyncSession, seed: SeedMailbox | None) -> Template:
        """Connect with the form's values (not saved) and say what happened, next to the button."""
        typed, data = _typed(await read_form(request))
        try:
            found = await seeds.test_connection(db, data, seed.id if seed else None)
        except ValidationFailed as exc:
            return _form(seed, typed, field_errors(exc), status_code=422)
        except ConnectionFailed as exc:
            return _form(seed, typed, {}, status_code=422, test=("error", f"Connection failed: {exc}"))
        message = f"Connected and signed in. Folders searched for copies: {', '.join(found) or 'none'}."
        return _form(seed, typed, {}, test=("success", message))

    @get("/{seed_id:int}/delete")
    async def confirm_delete(self, db: Db, seed_id: FromPath[int]) -> Template:
        return Template("placement/seed_delete.html", context={"seed": await seeds.get_seed(db, seed_id)})

    @post("/{seed_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, seed_id: FromPath[int]) -> AnyResponse:
        seed = await seeds.get_seed(db, seed_id)
        await seeds.delete_seed(db, seed_id)
        flash(request, f"Seed mailbox {seed.name} deleted.", "success")
        return after_change(request, PATH)


class PlacementTestsController(Controller):
    path = "/campaigns/{campaign_id:int}/placement-tests"

    @get("/", name="placement_tests")
    async def index(self, db: Db, campaign_id: FromPath[int]) -> Template:
        context = {
            "c": await campaigns.get_campaign(db, campaign_id),
            "tests": await placement.results_of_campaign(db, campaign_id),
            "seeds": await seeds.list_seeds(db, active_only=True),
            "default_wait": DEFAULT_WAIT_MINUTES,
        }
        return Template("placement/tests.html", context=context)

    @post("/")
    async def start(self, request: StaffRequest, db: Db, campaign_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        data = {"wait_minutes": first(form, "wait_minutes")} if first(form, "wait_minutes") else {}
        try:
            test = await placement.start(db, campaign_id, data)
        except (ValidationFailed, Conflict) as exc:
            flash(request, " ".join(field_errors(exc).values()), "error")
            return after_change(request, f"/campaigns/{campaign_id}/placement-tests")
        await db.commit()  # the worker reads the test
        send_placement_copies.send(test.id)
        flash(request, "Placement test started: its copies are on their way to the seed mailboxes.", "success")
        return after_change(request, f"/campaigns/{campaign_id}/placement-tests/{test.id}")

    @get("/{test_id:int}")
    async def show(self, db: Db, campaign_id: FromPath[int], test_id: FromPath[int]) -> Template:
        campaign = await campaigns.get_campaign(db, campaign_id)
        test = await placement.get_test(db, test_id)
        if test.campaign_id != campaign.id:
            raise NotFound("That placement test is not one of this campaign's.")
        return Template("placement/test.html", context={"c": campaign, "test": await placement.results(db, test_id)})
