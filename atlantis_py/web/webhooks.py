"""POST /events: verify, parse, route, and store only what asks for work.

Nothing slow happens here. Most deliveries a busy repository sends ask for
nothing (review chatter, edits, labels, other repositories); they are decided
here, from the payload, by the same `Router` the worker uses, and answered 200
without touching the database. A delivery that asks for work is stored as its
parsed event with its delivery id (dedupe) and answered 202. A body that is not
JSON, or whose fields have the wrong types, is answered 400 and never queued.
When the database cannot store a delivery that asks for work, it goes to the
local spool (web/spool.py) and is still answered 202; only when even the spool
cannot take it is it answered 503, so the forge shows it as failed and it can be
redelivered by hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from flask import Blueprint, Response, request

from atlantis_py.core.dispatch import Action, Ignore, event_pull_number, event_repo
from atlantis_py.domain.events import Event
from atlantis_py.errors import DatabaseUnavailable, MalformedWebhook
from atlantis_py.forges.base import WebhookVerifier
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import EventJob, pull_key
from atlantis_py.web.health import WebhookCounts
from atlantis_py.web.spool import Spool, SpooledDelivery, SpoolReplayer

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
MAX_DELIVERY_ID = 128  # the width of deliveries.delivery_id
MAX_EVENT_TYPE = 64


def _answer(code: int, **fields: str) -> tuple[Response, int]:
    """A small JSON answer without Flask's JSON provider: this runs for every
    delivery, and jsonify was a tenth of the request's own time."""
    return Response(json.dumps(fields), mimetype="application/json"), code


def webhooks_blueprint(verifiers: Sequence[WebhookVerifier], queue: JobQueue,
                       counts: WebhookCounts, router: Callable[[Event], Action],
                       spool: Spool, replayer: SpoolReplayer) -> Blueprint:
    bp = Blueprint("webhooks", __name__)

    def spooled(delivery: SpooledDelivery, why: str) -> tuple[Response, int]:
        try:
            spool.append(delivery)
        except OSError as err:
            log.error("delivery %s lost: the database cannot store it (%s) and the spool "
                      "cannot take it (%s); redeliver it from the forge once either is back",
                      delivery.delivery_id, why, err)
            counts.add(delivery.forge, "unavailable")
            return _answer(503, error="the database is unavailable and the webhook spool "
                                      "cannot be written; redeliver this webhook later")
        replayer.nudge()
        log.warning("delivery %s (%s) spooled: %s", delivery.delivery_id,
                    delivery.event_type, why)
        counts.add(delivery.forge, "spooled")
        return _answer(202, status="spooled", delivery=delivery.delivery_id)

    @bp.post("/events")
    def events() -> tuple[Response, int]:
        if (request.content_length or 0) > MAX_BODY:
            return _answer(413, error="payload too large")
        body = request.get_data(cache=False)
        headers = dict(request.headers)
        verifier = next((v for v in verifiers if v.recognises(headers)), None)
        if verifier is None:
            return _answer(400, error="not a webhook from a configured forge")
        delivery = verifier.verify(headers, body)
        if delivery is None:
            log.warning("rejected %s webhook: bad or missing signature", verifier.forge)
            counts.add(verifier.forge, "rejected")
            return _answer(401, error="invalid signature")
        if len(delivery.delivery_id) > MAX_DELIVERY_ID or \
                len(delivery.event_type) > MAX_EVENT_TYPE:
            counts.add(delivery.forge, "malformed")
            return _answer(400, error="delivery id or event type header is too long")
        try:
            event = verifier.parse(delivery.event_type, body) if delivery.handled else None
        except MalformedWebhook as err:
            log.warning("delivery %s refused: %s", delivery.delivery_id, err)
            counts.add(delivery.forge, "malformed")
            return _answer(400, error=str(err))
        action = router(event) if event is not None else None
        if event is None or isinstance(action, Ignore):
            counts.add(delivery.forge, "ignored")
            return _answer(200, status="ignored", event=delivery.event_type)
        repo = event_repo(event)
        held = SpooledDelivery(delivery.forge, delivery.delivery_id, delivery.event_type,
                               pull_key(repo.forge, repo.full_name, event_pull_number(event)),
                               EventJob(event))
        if spool.count():
            return spooled(held, "earlier deliveries wait in the spool")
        try:
            fresh = queue.accept_delivery(held.forge, held.delivery_id, held.event_type,
                                          held.job, held.serial_key)
        except DatabaseUnavailable as err:
            return spooled(held, str(err))
        if not fresh:
            log.info("delivery %s already accepted; not queued again", delivery.delivery_id)
            counts.add(delivery.forge, "duplicate")
            return _answer(200, status="duplicate", delivery=delivery.delivery_id)
        log.info("delivery %s (%s) queued", delivery.delivery_id, delivery.event_type)
        counts.add(delivery.forge, "queued")
        return _answer(202, status="queued", delivery=delivery.delivery_id)

    return bp
