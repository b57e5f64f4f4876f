"""SQLAlchemy 2.0 typed models. Every instant is stored as UTC (``DateTime(timezone=True)``)."""
from app.models.base import utcnow
from app.models.booking import ActorKind, Booking, BookingAuditEntry, BookingStatus, Client
from app.models.business import (
    Business,
    BookingSettings,
    BusinessSlugHistory,
    DateOverride,
    Service,
    StaffMember,
    WeeklyHours,
    service_staff,
)
from app.models.user import ApiKey, Membership, PendingSignup, Role, User
from app.models.outbox import JobStatus, OutboxJob, SentMessage  # noqa: F401
from app.models.notification import BookingNotification, NotificationPreference  # noqa: F401
from app.models.connection import Connection, ConnectionKind, ConnectionStatus
from app.models.idempotency import BookingIdempotencyKey
from app.models.branding import BusinessLogo
from app.models.team import StaffInvitation
from app.models.onboarding import AutomationRule, OnboardingStep, StepStatus

__all__ = [
    "ActorKind",
    "ApiKey",
    "AutomationRule",
    "Booking",
    "BookingAuditEntry",
    "BookingIdempotencyKey",
    "BookingSettings",
    "BookingStatus",
    "Business",
    "BusinessSlugHistory",
    "BusinessLogo",
    "Client",
    "Connection",
    "ConnectionKind",
    "ConnectionStatus",
    "DateOverride",
    "Membership",
    "OnboardingStep",
    "PendingSignup",
    "Role",
    "Service",
    "StaffInvitation",
    "StaffMember",
    "StepStatus",
    "User",
    "WeeklyHours",
    "service_staff",
    "utcnow",
]
