"""Owner endpoints of the set-up wizard: its status, saving or skipping a step, and testing
SimplyBook.me credentials. The work is :mod:`app.services.onboarding`'s; an owner's dashboard
session or API key, like the other owner endpoints."""
from __future__ import annotations

from app.api import schemas
from app.api.auth import current_owner, owner_required
from app.api.io import body, reply
from app.api.spec import endpoint
from app.services import onboarding

AUTH_ERRORS = (400, 401, 403)


def _status(business) -> schemas.OnboardingOut:
    state = onboarding.status(business)
    return schemas.OnboardingOut(
        steps=[
            schemas.OnboardingStepOut(step=s.step, title=s.title, status=s.status, data=s.data, updated_at=s.updated_at)
            for s in state.steps
        ],
        current=state.current,
        completed=state.completed,
        bookable=state.bookable,
        checklist=[schemas.ChecklistItemOut(key=i.key, label=i.label, done=i.done) for i in onboarding.checklist(business)],
    )


@endpoint("/onboarding", "GET", "The set-up wizard: each step's status and saved answers, where to resume, the checklist",
          response=schemas.OnboardingOut, errors=AUTH_ERRORS, owner=True, tag="onboarding")
@owner_required
def get_onboarding():
    return reply(_status(current_owner().business))


@endpoint("/onboarding", "POST", "Save a step (or skip it); the `done` step applies every saved answer in one transaction",
          body=schemas.OnboardingUpdate, response=schemas.OnboardingOut, errors=AUTH_ERRORS + (422,), owner=True, tag="onboarding")
@owner_required
def post_onboarding():
    data = body(schemas.OnboardingUpdate)
    business = current_owner().business
    if data.skip:
        onboarding.skip_step(business, data.step)
    else:
        onboarding.save_step(business, data.step, data.data or {})
    return reply(_status(business))


@endpoint("/onboarding/test-crm", "POST", "Try SimplyBook.me credentials (the body's, else the stored ones): ok, or why not",
          body=schemas.CrmTestIn, response=schemas.CrmTestOut, errors=AUTH_ERRORS + (422,), owner=True, tag="onboarding")
@owner_required
def onboarding_test_crm():
    data = body(schemas.CrmTestIn).model_dump(exclude_none=True)
    check = onboarding.check_crm_connection(current_owner().business, data)
    return reply(schemas.CrmTestOut(ok=check.ok, reason=check.reason, message=check.message))
