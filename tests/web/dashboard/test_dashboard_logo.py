"""The logo: uploaded on the settings page (PNG, JPEG, WebP up to 1 MB, re-encoded without
metadata, at most 512 px), refused with a message otherwise, served under a digest URL with
long caching, shown on the booking page and in e-mails, removable."""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from PIL import Image, PngImagePlugin

from app.models import Business, BusinessLogo
from app.public.branding import LOGO_CACHE
from tests.web.dashboard.support import field_error, flashes, text


def image_bytes(fmt: str, size=(64, 32), mode="RGB", color=(200, 30, 60), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def upload(client, data: bytes, filename="logo.png"):
    return client.post(
        "/dashboard/settings/logo", data={"logo": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def stored(db) -> tuple[Business, BusinessLogo | None]:
    db.session.expire_all()
    business = db.session.scalar(db.select(Business))
    return business, db.session.get(BusinessLogo, business.id)


@pytest.mark.parametrize(
    "fmt, mode, color, content_type, stored_format",
    [
        ("PNG", "RGBA", (10, 20, 30, 128), "image/png", "PNG"),
        ("JPEG", "RGB", (200, 30, 60), "image/jpeg", "JPEG"),
        ("WEBP", "RGB", (200, 30, 60), "image/png", "PNG"),
        ("WEBP", "RGBA", (200, 30, 60, 40), "image/png", "PNG"),
    ],
)
def test_good_images_are_stored_re_encoded(client, logged_in, db, fmt, mode, color, content_type, stored_format):
    response = upload(client, image_bytes(fmt, (800, 400), mode, color), f"logo.{fmt.lower()}")
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/settings#logo-heading")
    business, logo = stored(db)
    assert (logo.content_type, logo.width, logo.height) == (content_type, 512, 256)  # scaled down, aspect kept
    assert logo.digest == hashlib.sha256(logo.data).hexdigest()[:16] == business.logo_digest
    with Image.open(io.BytesIO(logo.data)) as image:
        assert (image.format, image.size) == (stored_format, (512, 256))
        assert image.mode == ("RGBA" if mode == "RGBA" else "RGB")
    assert flashes(client.get("/dashboard/settings")) == ["Logo saved: it shows on your booking page and in your e-mails."]


def test_a_small_image_keeps_its_size(client, logged_in, db):
    assert upload(client, image_bytes("PNG", (40, 20))).status_code == 303
    assert (stored(db)[1].width, stored(db)[1].height) == (40, 20)


def test_metadata_is_stripped(client, logged_in, db):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0131] = "Secret Editor 1.0"  # Software
    jpeg = image_bytes("JPEG", exif=exif.tobytes(), comment=b"secret comment")
    with Image.open(io.BytesIO(jpeg)) as original:
        assert original.getexif()[0x010F] == "SpyCam"  # the upload has it
    assert upload(client, jpeg, "photo.jpg").status_code == 303
    data = stored(db)[1].data
    with Image.open(io.BytesIO(data)) as image:
        assert dict(image.getexif()) == {} and "comment" not in image.info and "exif" not in image.info
    assert b"SpyCam" not in data and b"Secret Editor" not in data and b"secret comment" not in data

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone Private")
    assert upload(client, image_bytes("PNG", pnginfo=info)).status_code == 303
    data = stored(db)[1].data
    with Image.open(io.BytesIO(data)) as image:
        assert "Author" not in image.info
    assert b"Someone Private" not in data


def test_exif_orientation_is_applied_before_it_is_dropped(client, logged_in, db):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    assert upload(client, image_bytes("JPEG", (80, 40), exif=exif.tobytes()), "photo.jpg").status_code == 303
    assert (stored(db)[1].width, stored(db)[1].height) == (40, 80)


def bomb() -> bytes:
    """A 1-bit PNG of 12000 x 12000 pixels (144 million): a few kilobytes on disk."""
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "logo.png", "Choose an image file to upload."),
        (b"hello, I am text\n" * 10, "logo.png", "That file is not a PNG, JPEG or WebP image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "That file is not a PNG, JPEG or WebP image."),
        (image_bytes("GIF"), "logo.gif", "That file is not a PNG, JPEG or WebP image."),
        (image_bytes("PNG")[:60], "logo.png", "That image could not be read: the file may be damaged."),
        (b"\0" * (2 * 1024 * 1024), "big.png", "That file is larger than 1 MB. Choose a smaller image."),
        (None, "bomb.png", "That image is too large (more than 16 million pixels). Choose a smaller one."),
    ],
)
def test_bad_uploads_are_422_with_a_message(client, logged_in, db, data, filename, message):
    response = upload(client, bomb() if data is None else data, filename)
    assert response.status_code == 422
    assert field_error(response, "logo") == message
    assert 'aria-invalid="true"' in text(response)
    assert stored(db)[1] is None and stored(db)[0].logo_digest is None


def test_no_file_at_all_is_422(client, logged_in, db):
    response = client.post("/dashboard/settings/logo", data={}, content_type="multipart/form-data")
    assert (response.status_code, field_error(response, "logo")) == (422, "Choose an image file to upload.")


def test_a_request_over_the_upload_limit_is_413_with_the_message(client, logged_in, db):
    response = upload(client, b"\0" * (5 * 1024 * 1024), "huge.png")
    assert response.status_code == 413
    assert field_error(response, "logo") == "That file is larger than 1 MB. Choose a smaller image."


def test_replace_and_remove(client, logged_in, db):
    upload(client, image_bytes("PNG", color=(1, 2, 3)))
    first = stored(db)[0].logo_digest
    upload(client, image_bytes("PNG", color=(4, 5, 6)))
    business, logo = stored(db)
    assert business.logo_digest == logo.digest != first
    page = text(client.get("/dashboard/settings"))
    assert f'<img src="/book/{business.slug}/logo/{logo.digest}" alt="Your current logo">' in page
    assert "Remove logo" in page and "Replace logo" in page
    response = client.post("/dashboard/settings/logo/remove")
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/settings#logo-heading")
    assert stored(db) == (business, None) and business.logo_digest is None
    page = client.get("/dashboard/settings")
    assert flashes(page) == ["Logo removed."]
    assert "Remove logo" not in text(page) and "Upload logo" in text(page)


def token_from(response) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text(response)).group(1)


class TestWithCsrf:
    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def logged_in(self, client, owner):
        token = token_from(client.get("/login"))
        response = client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery", "csrf_token": token})
        assert response.status_code == 302
        return owner

    def test_upload_needs_the_token(self, client, logged_in, db):
        response = upload(client, image_bytes("PNG"))
        assert response.status_code == 400 and stored(db)[1] is None
        token = token_from(client.get("/dashboard/settings"))
        response = client.post(
            "/dashboard/settings/logo", data={"csrf_token": token, "logo": (io.BytesIO(image_bytes("PNG")), "l.png")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 303 and stored(db)[1] is not None

    def test_remove_needs_the_token(self, client, logged_in, db):
        assert client.post("/dashboard/settings/logo/remove").status_code == 400


# ------------------------------------------------------------------ serving

@pytest.fixture
def with_logo(client, logged_in, db):
    assert upload(client, image_bytes("PNG")).status_code == 303
    return stored(db)


def test_logo_url_headers(client, with_logo):
    business, logo = with_logo
    url = f"/book/{business.slug}/logo/{logo.digest}"
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == logo.data
    assert {k: response.headers[k] for k in ("Content-Type", "Content-Length", "X-Content-Type-Options", "Cache-Control", "ETag", "Cross-Origin-Resource-Policy")} == {
        "Content-Type": "image/png",
        "Content-Length": str(len(logo.data)),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": LOGO_CACHE,
        "ETag": f'"{logo.digest}"',
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    assert LOGO_CACHE == "public, max-age=31536000, immutable"
    again = client.get(url, headers={"If-None-Match": f'"{logo.digest}"'})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", f'"{logo.digest}"')


def test_an_old_digest_redirects_to_the_current_logo_and_no_logo_is_404(client, with_logo, db):
    business, logo = with_logo
    old = client.get(f"/book/{business.slug}/logo/0123456789abcdef")
    assert (old.status_code, old.headers["Location"], old.headers["Cache-Control"]) == (302, f"/book/{business.slug}/logo/{logo.digest}", "no-cache")
    assert client.get(f"/book/no-such-shop/logo/{logo.digest}").status_code == 404
    client.post("/dashboard/settings/logo/remove")
    assert client.get(f"/book/{business.slug}/logo/{logo.digest}").status_code == 404


def test_booking_page_shows_the_logo(client, with_logo):
    business, logo = with_logo
    body = text(client.get(f"/book/{business.slug}"))
    assert f'<img class="biz-logo" src="/book/{business.slug}/logo/{logo.digest}" alt="">' in body


def test_manage_page_shows_the_logo(client, with_logo, factory):
    from app.services.client_self_service import manage_path
    from tests.conftest import next_weekday
    from tests.web.public.support import at

    business, logo = with_logo
    service = factory.service(business, name="Lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)
    booking = factory.booking(business, service, at(next_weekday(1), "10:00"))
    response = client.get(manage_path(booking))
    assert response.status_code == 200
    assert f'<img class="biz-logo" src="/book/{business.slug}/logo/{logo.digest}" alt="">' in text(response)


def test_booking_page_without_a_logo_has_no_image(client, logged_in):
    assert "biz-logo" not in text(client.get(f"/book/{logged_in.business.slug}"))


def test_emails_show_the_logo_by_absolute_url(app, with_logo, factory, db):
    from app.services.emails import build_booking_email
    from tests.conftest import next_weekday
    from tests.web.public.support import at

    business, logo = with_logo
    service = factory.service(business, name="Lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)
    booking = factory.booking(business, service, at(next_weekday(1), "10:00"))
    email = build_booking_email(booking, "confirmed")
    base = app.config["BASE_URL"].rstrip("/")
    assert (
        f'<img src="{base}/book/{business.slug}/logo/{logo.digest}" alt="{business.name}" height="48" '
        'style="display:block;height:48px;width:auto;max-width:240px;border:0;">'
    ) in email.html
