"""Account e-mail jobs (sign-up verification, "someone tried to sign up"), sent once per key
like booking e-mails (:func:`app.jobs.email.deliver_email`)."""
from __future__ import annotations

import logging

from app.jobs.email import already_sent, deliver_email
from app.jobs.registry import handler
from app.models.outbox import SentMessage
from app.services import account_emails, accounts

log = logging.getLogger(__name__)


@handler(accounts.JOB_KIND)
def send_account_email(template: str, pending_id: int | None = None, user_id: int | None = None, *, key: str) -> SentMessage | None:
    """Send the account e-mail ``template`` (see :data:`app.services.account_emails.SUBJECTS`)
    about ``pending_id`` or ``user_id``. Nothing to do (returns None) when that row is gone."""
    earlier = already_sent(key)
    if earlier is not None:
        return earlier
    email = account_emails.build_account_email(template, pending_id=pending_id, user_id=user_id)
    if email is None:
        log.info("e-mail %s not sent: its sign-up or account no longer exists", key)
        return None
    return deliver_email(email, key=key)
