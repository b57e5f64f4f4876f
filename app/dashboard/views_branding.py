"""Branding and embedding: the logo (on the settings page), and "Add to your website": the inline
and popup snippets with a live preview, and which sites may frame the booking page."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from app.dashboard import bp
from app.dashboard.common import current_business
from app.dashboard.forms import EmbedOptionsForm, EmbedSitesForm, LogoForm
from app.dashboard.views_settings import _page as settings_page
from app.domain.colors import DEFAULT_PAGE_PRIMARY, page_theme
from app.domain.embedding import InvalidOrigins, parse_origins
from app.extensions import csrf
from app.services import branding
from app.services.errors import ValidationFailed
from app.web import render

# The whole multipart request of a logo upload: room for a file a little over the 1 MB limit, so
# that it gets its own message rather than the generic "too large" page.
LOGO_REQUEST_LIMIT = 4 * 1024 * 1024
INLINE_HEIGHT = 720  # pixels, the inline frame's height until the page inside reports its own


@bp.post("/settings/logo")
@csrf.exempt  # checked below, after this request's larger size limit is set (see LOGO_REQUEST_LIMIT)
def settings_logo():
    business = current_business()
    request.max_content_length = LOGO_REQUEST_LIMIT
    try:
        request.files  # noqa: B018  (parse the body now, under the limit above)
    except RequestEntityTooLarge:
        form = LogoForm(formdata=None)
        form.logo.errors = [branding.MESSAGES["too_big"]]
        return settings_page(413, logo_form=form)
    form = LogoForm()
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(form.csrf_token.data)
        except ValidationError as exc:
            raise CSRFError(exc.args[0]) from None
    upload = form.logo.data
    try:
        data = upload.read(branding.MAX_BYTES + 1) if upload is not None and hasattr(upload, "read") else b""
        branding.set_logo(business, data)
    except ValidationFailed as exc:
        form.logo.errors = [exc.fields.get("logo", exc.message)]
        return settings_page(422, logo_form=form)
    flash("Logo saved: it shows on your booking page and in your e-mails.", "success")
    return redirect(url_for("dashboard.settings", _anchor="logo-heading"), code=303)


@bp.post("/settings/logo/remove")
def settings_logo_remove():
    branding.remove_logo(current_business())
    flash("Logo removed.", "success")
    return redirect(url_for("dashboard.settings", _anchor="logo-heading"), code=303)


def snippets(business, label: str) -> dict[str, str]:
    """The two snippets an owner pastes into their site: ``inline`` (a frame that resizes itself)
    and ``popup`` (a button that opens the booking page over their page)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    page = f"{base}/book/{business.slug}"
    script = f'<script src="{base}{url_for("static", filename="embed.js")}" async></script>'
    theme = page_theme(business.brand_color or DEFAULT_PAGE_PRIMARY)
    title = escape(f"Book with {business.name}")
    inline = (
        f'<iframe data-flowkey-embed src="{page}?embed=1" title="{title}" loading="lazy"\n'
        f'        style="display:block;width:100%;height:{INLINE_HEIGHT}px;border:0"></iframe>\n{script}'
    )
    popup = (
        f'<a data-flowkey-popup href="{page}" data-flowkey-color="{theme.primary}"\n'
        f'   data-flowkey-text-color="{theme.on_primary}" data-flowkey-border-color="{theme.border}">{escape(label)}</a>\n{script}'
    )
    return {"inline": inline, "popup": popup}


def _embed_page(status: int = 200, sites_form: EmbedSitesForm | None = None, block: str | None = None):
    business = current_business()
    options = EmbedOptionsForm(request.args, meta={"csrf": False})
    label = "Book now"
    if options.validate() and (options.label.data or "").strip():
        label = options.label.data.strip()
    if sites_form is None:
        origins = business.embed_origins or []
        sites_form = EmbedSitesForm(formdata=None, data={"where": "listed" if origins else "any", "origins": "\n".join(origins)})
    theme = page_theme(business.brand_color or DEFAULT_PAGE_PRIMARY)
    return render(
        "dashboard/embed.html",
        block=block,
        status=status,
        options=options,
        label=label,
        snippets=snippets(business, label),
        sites_form=sites_form,
        theme=theme,
        preview_url=url_for("public.business_page", slug=business.slug, embed=1),
        page_url=url_for("public.business_page", slug=business.slug),
    )


@bp.get("/settings/embed")
def settings_embed():
    return _embed_page(block="snippets")


@bp.post("/settings/embed/sites")
def settings_embed_sites():
    business = current_business()
    form = EmbedSitesForm()
    if form.validate_on_submit():
        if form.where.data == "any":
            branding.set_embed_origins(business, None)
            flash("Any website may now show your booking page.", "success")
            return redirect(url_for("dashboard.settings_embed", _anchor="sites-heading"), code=303)
        try:
            origins = parse_origins(form.origins.data or "")
        except InvalidOrigins as exc:
            form.origins.errors = [
                f"Line {number}: {message}" if line else message for number, line, message in exc.errors
            ]
        else:
            branding.set_embed_origins(business, origins)
            flash(f"Only these websites may now show your booking page: {', '.join(origins)}.", "success")
            return redirect(url_for("dashboard.settings_embed", _anchor="sites-heading"), code=303)
    return _embed_page(422, sites_form=form)
