"""How a consumed message is settled when its effect fails: retried with backoff, or dead-lettered.

Shared by ``DurableConsumer`` (one message per transaction) and consumers that apply a batch per
transaction (market-data's trade persistence), so both bind, retry and dead-letter the same way:
a dead letter goes to ``dlq.<subject>`` with the error in headers and only then is the original
acked; if that publish fails the original is nak'ed, so nothing is silently dropped.
"""

from __future__ import annotations

import logging

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from tradeloom.shared.context import HEADER_ERROR, HEADER_ERROR_CODE, HEADER_MSG_ID
from tradeloom.shared.streams import ConsumerSpec, ensure_consumer
from tradeloom.shared.subjects import Subjects

log = logging.getLogger(__name__)
DEAD_LETTER_RETRY_S = 5.0


async def bind_pull(
    js: JetStreamContext, spec: ConsumerSpec, subjects: Subjects
) -> JetStreamContext.PullSubscription:
    """The durable consumer (created or updated from ``spec``) bound as a pull subscription."""
    await ensure_consumer(js, spec, subjects)
    return await js.pull_subscribe_bind(spec.durable, stream=subjects.stream(spec.stream))


def retry_delay(spec: ConsumerSpec, delivered: int) -> float:
    """The nak delay after the ``delivered``-th failed delivery: the spec's backoff, last one repeated."""
    backoff = spec.backoff_s or (1.0,)
    return backoff[min(max(delivered, 1) - 1, len(backoff) - 1)]


async def dead_letter(
    js: JetStreamContext, subjects: Subjects, message: Msg, *, consumer: str, code: str, error: str
) -> bool:
    """Publish to ``dlq.<subject>`` (error and origin in headers), then ack; False when the publish
    failed and the message was nak'ed for another try instead."""
    headers = dict(message.headers or {})
    original_id = headers.get(HEADER_MSG_ID, f"seq-{message.metadata.sequence.stream}")
    headers.update(
        {
            HEADER_MSG_ID: f"dlq:{consumer}:{original_id}",
            HEADER_ERROR: error[:2000],
            HEADER_ERROR_CODE: code,
            "tl-original-subject": message.subject,
            "tl-consumer": consumer,
            "tl-delivered": str(message.metadata.num_delivered),
        }
    )
    try:
        await js.publish(subjects.dead_letter(message.subject), message.data, headers=headers)
    except Exception as publish_error:  # never drop: leave it for redelivery instead
        log.error("dead-letter publish failed, will retry: %r", publish_error)
        await message.nak(delay=DEAD_LETTER_RETRY_S)
        return False
    log.error("consumer %s dead-lettered a message: %s: %s", consumer, code, error[:300])
    await message.ack_sync()
    return True
