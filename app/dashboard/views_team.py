"""The Team page: staff members, their roles and invitations."""
from __future__ import annotations

from app.dashboard import bp
from app.web import render


@bp.get("/team")
def team():
    return render("dashboard/team.html")
