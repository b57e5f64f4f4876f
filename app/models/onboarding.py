"""The set-up wizard's saved answers, and the automations an owner switched on.

``OnboardingStep``: one row per business and wizard step (``welcome``, ``crm``, ``booking``,
``channels``, ``automations``, ``done``; see :mod:`app.services.onboarding`), plus one
``checklist`` row recording what the overview's checklist cannot read from other tables (the page
previewed, the link shared, the hours checked). ``data`` holds NON-secret answers only: API keys,
passwords and tokens go straight into the vault (:mod:`app.services.credentials`) and the step
keeps the connection's id.

``AutomationRule``: an automation a business switched on or off (``kind`` one of
:data:`AUTOMATION_KINDS`). Recorded by the wizard now; the automations feature runs them and adds
their settings.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

#: What the wizard offers to switch on, in the order it shows them.
AUTOMATION_KINDS = ("confirmation", "reminders", "no_show_follow_up", "review_request")


class StepStatus(str, enum.Enum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


class OnboardingStep(db.Model):
    __tablename__ = "onboarding_step"
    __table_args__ = (UniqueConstraint("business_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    status: Mapped[StepStatus] = mapped_column(
        Enum(StepStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]), default=StepStatus.PENDING
    )
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AutomationRule(db.Model):
    __tablename__ = "automation_rule"
    __table_args__ = (UniqueConstraint("business_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
