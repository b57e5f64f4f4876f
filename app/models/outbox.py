"""The outbox (background work that is never lost) and the record of sent messages.

:class:`OutboxJob` rows are written in the same transaction as the change that causes the side
effect; a dispatcher (RQ) or the in-process runner executes them later. :class:`SentMessage` rows
make outbound delivery idempotent: a job checks for its key before sending and records it right
after the transport accepted the message.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class JobStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for run_at (or for a retry)
    DISPATCHED = "dispatched"  # handed to an RQ queue; locked_until guards against a lost enqueue
    RUNNING = "running"  # claimed by a worker; locked_until guards against a dead worker
    DONE = "done"
    FAILED = "failed"  # gave up (attempts exhausted or a permanent error); retryable by hand


_status_type = Enum(JobStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class OutboxJob(db.Model):
    """One side effect to perform: ``kind`` names a handler in :mod:`app.jobs`, ``payload`` its
    keyword arguments (JSON: ids and plain values, never rows)."""

    __tablename__ = "outbox_job"
    __table_args__ = (
        # The poll: due pending rows, and dispatched/running rows whose lease ran out.
        Index("ix_outbox_job_status_run_at", "status", "run_at"),
        # The dashboard's jobs list and failed-jobs counter.
        Index("ix_outbox_job_business_status", "business_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(32), default="default")
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[JobStatus] = mapped_column(_status_type, default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    last_error: Mapped[str | None] = mapped_column(Text)
    # While dispatched or running: when the row may be taken again (the holder is presumed dead).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    # The business the job works for (None for system jobs such as the daily cleanup).
    business_id: Mapped[int | None] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Progress a person watches (partials/_job_status.html): percent 0-100 (None = not reported),
    # a short message, and the handler's result (JSON) once done.
    progress: Mapped[int | None] = mapped_column(Integer)
    progress_message: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[dict | None] = mapped_column(JSON)

    booking = relationship("Booking", viewonly=True)

    def __repr__(self) -> str:
        return f"<OutboxJob {self.id} {self.kind} {self.status.value if self.status else None} attempts={self.attempts}>"


class SentMessage(db.Model):
    """A message an outbound channel accepted, keyed by the side effect's idempotency key."""

    __tablename__ = "sent_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(512))  # comma-separated for several
    subject: Mapped[str] = mapped_column(String(255), default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    # SMTP: the Message-ID header; file transport: the .eml file name under MAIL_OUTBOX_DIR.
    transport: Mapped[str] = mapped_column(String(20), default="smtp")
    transport_message_id: Mapped[str] = mapped_column(String(255), default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
