"""A staff member's world in a real browser: the demo's owner invites Sam from the Team page, the
invitation e-mail arrives (real SMTP, the in-process outbox runner), Sam sets a password through
its link, logs in, and sees only their own bookings and hours: no Settings, Services, Team or
Advanced in the menu, and 403 on the settings page.

With ``TEAM_SHOTS_DIR`` set, the Team page and Sam's overview are saved there at phone
(390x844) and desktop (1366x900) sizes.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.test_booking_email import wait_for_mail
from tests.browser.test_booking_flow import dashboard_link, log_in, watch

SAM_EMAIL = "sam@swimschool.example"
SAM_PASSWORD = "violet tapestry monsoon"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def config_overrides(smtp_server, tmp_path):
    return {
        "WTF_CSRF_ENABLED": True,
        "SMTP_URL": smtp_server.url,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "Flowkey <bookings@flowkey.test>",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
    }


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at both sizes into ``TEAM_SHOTS_DIR`` (when set)."""
    directory = os.environ.get("TEAM_SHOTS_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.reload()  # laid out (menu included) as it loads at that size
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(Path(directory) / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(original)
    page.reload()


def bookings_of(db, staff_name: str) -> set[str]:
    from app.models import Booking, StaffMember

    db.session.expire_all()
    return set(db.session.scalars(
        select(Booking.client_name).join(StaffMember, Booking.staff_id == StaffMember.id).where(StaffMember.display_name == staff_name)
    ))


@pytest.fixture
def sam_without_a_login(demo, db):
    """The demo's Sam as if they had never logged in (the demo gives Sam a login; this walk
    invites them instead). A fixture, so it writes before the outbox runner starts polling."""
    from app.models import Membership, StaffMember

    with db.session.no_autoflush:
        staff = db.session.scalar(select(StaffMember).where(StaffMember.display_name == "Sam"))
        user = staff.user
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        staff.user, staff.email = None, None
        db.session.delete(membership)
        db.session.delete(user)
    db.session.commit()
    db.session.remove()


def test_an_invited_staff_member_sees_only_their_world(live_server, demo, sam_without_a_login, db, smtp_server, outbox_runner, new_context):
    sams, others = bookings_of(db, "Sam"), bookings_of(db, "Alex")
    db.session.remove()
    assert sams and others and not sams & others

    # The owner invites Sam from the Team page.
    owner = new_context(viewport=DESKTOP).new_page()
    problems = watch(owner)
    log_in(owner, live_server, demo)
    owner.goto(f"{live_server}/dashboard/team")
    expect(owner.get_by_role("heading", level=1, name="Team")).to_be_visible()
    sam_row = owner.get_by_role("row").filter(has=owner.get_by_role("link", name="Sam", exact=True))
    expect(sam_row).to_contain_text("No login")
    sam_row.get_by_role("link", name="Sam", exact=True).click()
    expect(owner.get_by_role("heading", level=1, name="Sam")).to_be_visible()
    owner.get_by_label("Send the invitation to").fill(SAM_EMAIL)
    owner.get_by_role("button", name="Send invitation").click()
    expect(owner.get_by_role("status").filter(has_text="Invitation sent to")).to_have_text(
        f"Invitation sent to {SAM_EMAIL}. The link works once, for 7 days."
    )
    owner.goto(f"{live_server}/dashboard/team")
    expect(sam_row).to_contain_text("Invited")
    shoot(owner, "team")

    mail = wait_for_mail(smtp_server, SAM_EMAIL, "staff_invitation")
    assert mail.subject == "Swim School Pro invited you to Flowkey"
    link = re.search(r"https?://\S+/invitation/\S+", mail.text).group(0)
    path = link[link.index("/invitation/"):]

    # Sam opens the link in their own browser, sets a password, and is logged in.
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    staff_problems = watch(page)
    page.goto(f"{live_server}{path}")
    expect(page.get_by_role("heading", level=1, name="Join Swim School Pro")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Sam")
    page.get_by_label("Choose a password").fill(SAM_PASSWORD)
    page.get_by_role("button", name="Set password and log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))

    # Logging out and in again works with the new password (on a phone, Log out is in the menu).
    menu = page.locator("summary.dash-menu-button")
    if menu.is_visible():
        menu.click()
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail", exact=True).fill(SAM_EMAIL)
    page.get_by_label("Password", exact=True).fill(SAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))
    shoot(page, "staff-overview")

    # The rest at desktop size, where the menu is always open.
    page.set_viewport_size(DESKTOP)
    page.reload()
    nav = page.get_by_role("navigation", name="Dashboard")
    expect(nav.get_by_role("link")).to_have_text([
        re.compile(r"^\s*Overview\s*$"), re.compile(r"^\s*Requests\b"), re.compile(r"^\s*Bookings\s*$"), re.compile(r"^\s*Hours\s*$"),
    ])
    for owners_only in ("Services", "Team", "Booking link", "Jobs", "Sent e-mail", "API keys"):
        expect(nav.get_by_role("link", name=re.compile(owners_only))).to_have_count(0)
    expect(nav.get_by_text("Advanced")).to_have_count(0)

    dashboard_link(page, "Bookings").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    body = page.locator("main").inner_text()
    assert all(name in body for name in sams), body
    assert not any(name in body for name in others), body

    dashboard_link(page, "Hours").click()
    expect(page.get_by_role("heading", level=1, name="Working hours")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Sam")
    expect(page.locator("main")).not_to_contain_text("Alex")

    response = page.goto(f"{live_server}/dashboard/settings")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("Only the business's owner can open this page.")
    assert problems + staff_problems == []
