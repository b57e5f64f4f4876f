"""The onboarding wizard."""
from __future__ import annotations

from app.dashboard import bp
from app.web import render


@bp.get("/welcome")
def onboarding():
    return render("dashboard/onboarding.html")
