"""JSON API: POST /api/contacts/{id}/repermission, a re-permission request (service/repermission.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from webapp.core.api import ErrorOut, creator, error_responses, id_parameter, sent_object
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.core.redis import get_redis
from webapp.subscriptions.actors import enqueue_confirmation
from webapp.subscriptions.schemas import RepermissionOut, RepermissionRequest
from webapp.subscriptions.service import repermission

ContactId = Annotated[int, id_parameter("Contact id.")]
RATE_LIMITED = ResponseSpec(
    ErrorOut,
    description="A confirmation email went to the address recently; Retry-After says when the next may go.",
    generate_examples=False,
)


class ApiRepermissionController(Controller):
    path = "/contacts"
    tags = ("contacts",)

    @post(
        "/{contact_id:int}/repermission",
        summary="Ask a contact who opted out to opt in again",
        description="Emails an unsubscribed or bounced contact a link to confirm `list_id` (an active static "
        "list). Nothing changes until they follow it; then they are active on that list only, and their "
        "address leaves the suppression list. 409 for a contact who has not opted out, complained, or whose "
        "address staff suppressed; 429 when a confirmation email went to the address within the hour.",
        status_code=202,
        responses={**error_responses(404, 409, 422), 429: RATE_LIMITED},
    )
    async def request_repermission(
        self, request: StaffRequest, data: JSONBody[RepermissionRequest], db: Db, contact_id: ContactId
    ) -> RepermissionOut:
        body = await sent_object(request)
        settings = get_settings().subscriptions
        asked = await repermission.request(db, get_redis(), settings, contact_id, body, creator(request.user))
        await db.commit()  # the worker must find the consent record
        await enqueue_confirmation(asked.subscription_id)
        return RepermissionOut(
            contact_id=asked.contact_id,
            email=asked.email,
            list_id=asked.email_list.id,
            list_name=asked.email_list.name,
            subscription_id=asked.subscription_id,
        )
