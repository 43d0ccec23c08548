"""JSON API: POST /api/tx sends one transactional message (an editor key), GET /api/tx/{id} says
what became of it (a viewer key)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody

from webapp.core.api import ErrorOut, error_responses, id_parameter, sent_object
from webapp.core.audit_trail import NOT_AUDITED
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.core.redis import get_redis
from webapp.transactional import service as transactional
from webapp.transactional.actors import enqueue
from webapp.transactional.models import IDEMPOTENCY_KEY_MAX_LENGTH
from webapp.transactional.queries import Message
from webapp.transactional.schemas import TxIn, TxOut

TxId = Annotated[int, id_parameter("Transactional message id.")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description=f"The client's key for this message (or the body's `idempotency_key`, at most "
        f"{IDEMPOTENCY_KEY_MAX_LENGTH} characters; longer is a 422 naming it, as in the body): a retry with the "
        "same key and body answers 200 with the first answer's message; the key with another body is a 409.",
    ),
]
RATE_LIMITED = ResponseSpec(
    ErrorOut,
    description="This API key sent more messages than MAILROOM_TX_RATE_LIMIT in the window; Retry-After says "
    "in how many seconds it may send again.",
    generate_examples=False,
)


def tx_out(message: Message) -> TxOut:
    return TxOut(
        id=message.id,
        template_id=message.template_id,
        to=message.to,
        status=message.status,
        error=message.error,
        idempotency_key=message.idempotency_key,
        created_at=message.created_at,
        sent_at=message.sent_at,
        opened_at=message.opened_at,
        clicked_at=message.clicked_at,
    )


class ApiTransactionalController(Controller):
    path = "/tx"
    tags = ("transactional",)

    @post(
        "/",
        summary="Send a transactional message",
        opt=NOT_AUDITED,
        description="One message from a transactional template (`template_id`) to one address (`to`), its "
        "personalisation reading `data` (an object, at most 16 KB of JSON) over the contact's fields when the "
        "address is a contact's. It is queued for sending at once, on a queue of its own (202); its status, "
        "opens and clicks are read with GET /api/tx/{id}. It carries no unsubscribe link and no "
        "List-Unsubscribe header (it is not marketing), but the organisation's name and address. 422 naming "
        "`to` when the address unsubscribed, bounced, complained, was suppressed or its contact made inactive; "
        "naming `template_id` for a missing, inactive or marketing template; naming `data` when the template "
        "fails to render with it (the part and line named), checked before anything is queued. Idempotent with an "
        "`Idempotency-Key` header or `idempotency_key` field: a retry answers 200 with the first message.",
        status_code=202,
        responses={
            200: ResponseSpec(TxOut, description="Sent before with this key; unchanged.", generate_examples=False),
            **error_responses(409, 422),
            429: RATE_LIMITED,
        },
    )
    async def send(
        self, request: StaffRequest, data: JSONBody[TxIn], db: Db, idempotency_key: IdempotencyKey = None
    ) -> Response[TxOut]:
        body = await sent_object(request)
        settings = get_settings().transactional
        sent = await transactional.send(db, get_redis(), settings, request.user, body, idempotency_key)
        await db.commit()  # the worker must find the delivery
        if sent.created:
            await enqueue(sent.message.delivery_id)
        return Response(tx_out(sent.message), status_code=202 if sent.created else 200)

    @get("/{tx_id:int}", summary="Get a transactional message", responses=error_responses(404))
    async def get_message(self, db: Db, tx_id: TxId) -> TxOut:
        return tx_out(await transactional.get(db, tx_id))
