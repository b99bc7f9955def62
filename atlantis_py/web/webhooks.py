"""POST /events: verify, store, acknowledge. Nothing slow happens here."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from flask import Blueprint, Response, jsonify, request

from atlantis_py.forges.base import WebhookVerifier
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import WebhookJob
from atlantis_py.web.health import WebhookCounts

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


def webhooks_blueprint(verifiers: Sequence[WebhookVerifier], queue: JobQueue,
                       counts: WebhookCounts) -> Blueprint:
    bp = Blueprint("webhooks", __name__)

    @bp.post("/events")
    def events() -> tuple[Response, int]:
        if (request.content_length or 0) > MAX_BODY:
            return jsonify(error="payload too large"), 413
        body = request.get_data(cache=False)
        headers = dict(request.headers)
        verifier = next((v for v in verifiers if v.recognises(headers)), None)
        if verifier is None:
            return jsonify(error="not a webhook from a configured forge"), 400
        delivery = verifier.verify(headers, body)
        if delivery is None:
            log.warning("rejected %s webhook: bad or missing signature", verifier.forge)
            counts.add(verifier.forge, "rejected")
            return jsonify(error="invalid signature"), 401
        if not delivery.handled:
            counts.add(delivery.forge, "ignored")
            return jsonify(status="ignored", event=delivery.event_type), 200
        try:
            key = verifier.serial_key(delivery.event_type, body)
        except json.JSONDecodeError:
            return jsonify(error="payload is not valid JSON"), 400
        except ValueError as err:
            return jsonify(error=str(err)), 400
        except RecursionError:
            return jsonify(error="payload is nested too deeply"), 400
        fresh = queue.accept_delivery(
            delivery.delivery_id, WebhookJob(delivery.forge, delivery.event_type, body), key)
        if not fresh:
            log.info("delivery %s already accepted; not queued again", delivery.delivery_id)
            counts.add(delivery.forge, "duplicate")
            return jsonify(status="duplicate", delivery=delivery.delivery_id), 200
        log.info("delivery %s (%s) queued", delivery.delivery_id, delivery.event_type)
        counts.add(delivery.forge, "queued")
        return jsonify(status="queued", delivery=delivery.delivery_id), 202

    return bp
