"""Services: list, create, edit (with where it happens: an address, who calls whom, the video
service), deactivate/activate."""
from __future__ import annotations

from flask import flash, redirect, request, url_for

from app.dashboard import bp
from app.dashboard.common import current_business, form_errors_from
from app.dashboard.forms import ServiceForm
from app.models.business import VIDEO_PROVIDERS, LocationKind
from app.services import business_service
from app.services.errors import ValidationFailed
from app.web import render


def _fields(form: ServiceForm) -> dict:
    fields = {name: getattr(form, name).data for name in ServiceForm.FIELDS}
    fields["name"] = fields["name"].strip()
    fields["description"] = (fields["description"] or "").strip()
    fields["location_kind"] = LocationKind(fields["location_kind"])
    fields.update(form.location_fields())
    return fields


@bp.get("/services")
def services():
    business = current_business()
    return render("dashboard/services.html", services=business.services, video_providers=VIDEO_PROVIDERS)


def _save(form: ServiceForm, service, template_status: int = 422):
    business = current_business()
    if form.validate_on_submit():
        try:
            saved = business_service.save_service(business, service, staff_ids=form.staff_ids.data, **_fields(form))
        except ValidationFailed as exc:
            form_errors_from(exc.fields, form)
        else:
            flash(f"Saved “{saved.name}”.", "success")
            return redirect(url_for("dashboard.services"), code=303)
    status = 422 if request.method == "POST" else 200
    return render("dashboard/service_form.html", status=status, form=form, service=service)


@bp.route("/services/new", methods=["GET", "POST"])
def service_new():
    business = current_business()
    form = ServiceForm(staff=business.staff)
    if request.method == "GET":
        form.staff_ids.data = [s.id for s in business.staff if s.is_active]
    return _save(form, None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
def service_edit(service_id: int):
    business = current_business()
    service = business_service.get_service(business, service_id)
    form = ServiceForm(obj=service, staff=business.staff)
    if request.method == "GET":
        form.staff_ids.data = [s.id for s in service.staff]
    return _save(form, service)


@bp.post("/services/<int:service_id>/active")
def service_active(service_id: int):
    business = current_business()
    service = business_service.get_service(business, service_id)
    active = request.form.get("active") == "1"
    business_service.save_service(business, service, is_active=active)
    flash(f"“{service.name}” is {'active' if active else 'deactivated: clients can no longer book it'}.", "success")
    return redirect(url_for("dashboard.services"), code=303)
