"""Building account e-mails (sign-up), which are Flowkey's own, not a business's.

Two templates in ``templates/email/`` (HTML + text, English): ``account_verify_signup`` carries
the link that completes a sign-up (:func:`app.services.accounts.signup_token`);
``account_signup_attempt`` tells the owner of an existing account that someone tried to sign up
with their address. The sender's display name is "Flowkey"; there is no Reply-To. MIME assembly
and sending are the mail integration's (:class:`app.integrations.mail.OutgoingEmail`).
"""
from __future__ import annotations

from flask import current_app

from app.domain.colors import email_theme
from app.extensions import db
from app.integrations.mail import OutgoingEmail
from app.models import PendingSignup, User
from app.services import accounts

SENDER_NAME = "Flowkey"
SUBJECTS = {
    accounts.VERIFY_SIGNUP: "Confirm your e-mail to finish signing up",
    accounts.SIGNUP_ATTEMPT: "Someone tried to sign up with your e-mail address",
}


def build_account_email(template: str, *, pending_id: int | None = None, user_id: int | None = None) -> OutgoingEmail | None:
    """Render ``template`` (a key of :data:`SUBJECTS`) for the pending sign-up ``pending_id``
    (verification) or the user ``user_id`` (sign-up attempt). None when the row is gone (the
    sign-up was completed or expired, the account deleted): nothing to send. Raises ``KeyError``
    for an unknown template. Needs an app context, not a request."""
    subject = SUBJECTS[template]
    base_url = current_app.config.get("BASE_URL", "").rstrip("/")
    context = {
        "lang": "en",
        "theme": email_theme(None),
        "business": {"name": SENDER_NAME},  # the shared layout's header and footer
        "subject": subject,
        "base_url": base_url,
        "login_url": f"{base_url}/login",
        "link_hours": accounts.SIGNUP_LINK_HOURS,
    }
    if template == accounts.VERIFY_SIGNUP:
        pending = db.session.get(PendingSignup, pending_id) if pending_id is not None else None
        if pending is None:
            return None
        to = pending.email
        context.update(pending=pending, confirm_url=f"{base_url}/signup/confirm/{accounts.signup_token(pending)}")
    else:
        user = db.session.get(User, user_id) if user_id is not None else None
        if user is None:
            return None
        to = user.email
        context.update(user=user)
    env = current_app.jinja_env  # not render_template: no request-bound context processors
    return OutgoingEmail(
        template=template,
        to=(to,),
        subject=subject,
        text=env.get_template(f"email/{template}.txt").render(**context),
        html=env.get_template(f"email/{template}.html").render(**context),
        from_name=SENDER_NAME,
    )
