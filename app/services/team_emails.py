"""Building the staff invitation e-mail (``templates/email/staff_invitation.html`` and ``.txt``,
English): the link that lets an invited staff member set their password
(:func:`app.services.team.invitation_token`). It comes from the business (its name as the
sender's display name, its colours and logo, Reply-To its contact address); MIME assembly and
sending are the mail integration's (:class:`app.integrations.mail.OutgoingEmail`).
"""
from __future__ import annotations

from flask import current_app

from app.domain.colors import email_theme
from app.extensions import db
from app.integrations.mail import OutgoingEmail
from app.models import StaffInvitation
from app.services import team


def subject(business_name: str) -> str:
    return f"{business_name} invited you to Flowkey"


def build_invitation_email(invitation_id: int, nonce_digest: str) -> OutgoingEmail | None:
    """The invitation ``invitation_id`` as it was sent with the nonce ``nonce_digest`` names
    (:func:`app.services.team.nonce_digest`). None when there is nothing to send: the invitation
    was revoked, accepted, or sent again since (the newer sending has its own job). Needs an app
    context, not a request."""
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None or invitation.accepted_at is not None or team.nonce_digest(invitation.nonce) != nonce_digest:
        return None
    business = invitation.business
    base_url = current_app.config.get("BASE_URL", "").rstrip("/")
    title = subject(business.name)
    inviter = invitation.invited_by
    context = {
        "lang": "en",
        "theme": email_theme(business.brand_color),
        "business": business,
        "subject": title,
        "base_url": base_url,
        "staff": invitation.staff,
        "inviter_name": (inviter.name or inviter.email) if inviter is not None else business.name,
        "accept_url": f"{base_url}/invitation/{team.invitation_token(invitation)}",
        "login_url": f"{base_url}/login",
        "email": invitation.email,
        "link_days": team.INVITATION_DAYS,
    }
    env = current_app.jinja_env  # not render_template: no request-bound context processors
    return OutgoingEmail(
        template=team.TEMPLATE,
        to=(invitation.email,),
        subject=title,
        text=env.get_template(f"email/{team.TEMPLATE}.txt").render(**context),
        html=env.get_template(f"email/{team.TEMPLATE}.html").render(**context),
        from_name=business.name,
        reply_to=business.email or None,
    )
