"""The staff invitation e-mail job, sent once per key like the account e-mails
(:func:`app.jobs.email.deliver_email`)."""
from __future__ import annotations

import logging

from app.jobs.email import already_sent, deliver_email
from app.jobs.registry import handler
from app.models.outbox import SentMessage
from app.services import team, team_emails

log = logging.getLogger(__name__)


@handler(team.JOB_KIND)
def send_staff_invitation(invitation_id: int, nonce_digest: str, business_id: int | None = None, *, key: str) -> SentMessage | None:
    """Send the invitation ``invitation_id`` as sent with the nonce ``nonce_digest`` names (listed
    on ``business_id``'s "sent e-mail" page). Nothing to do (returns None) when it was revoked,
    accepted or sent again since."""
    earlier = already_sent(key)
    if earlier is not None:
        return earlier
    email = team_emails.build_invitation_email(invitation_id, nonce_digest)
    if email is None:
        log.info("e-mail %s not sent: its invitation was revoked, accepted or replaced", key)
        return None
    return deliver_email(email, key=key, business_id=business_id)
