"""Business branding: the logo (checked, decoded and re-encoded with Pillow, stored in
``business_logo``) and the sites allowed to frame the booking pages.

Only the pixels survive: the upload is decoded (PNG, JPEG or WebP only, nothing else is even
tried), turned upright by its EXIF orientation, scaled down to :data:`MAX_SIDE` pixels a side
and written afresh from a new image, so EXIF (camera, GPS), XMP, text chunks, ICC profiles and
anything appended to the file are gone. A JPEG stays a JPEG; anything else becomes a PNG, which
keeps transparency; both show in every browser and e-mail client (WebP does not in some mail
clients).
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.extensions import db
from app.models import Business, BusinessLogo
from app.services.errors import ValidationFailed
from app.services.locks import unit_of_work

MAX_BYTES = 1024 * 1024  # the upload, as sent
MAX_SIDE = 512  # pixels, the stored logo's longer side at most
MAX_SOURCE_PIXELS = 16_000_000  # width x height of the upload (a 4000 x 4000 image); more is refused before decoding
FORMATS = ("PNG", "JPEG", "WEBP")
JPEG_QUALITY = 90

MESSAGES = {
    "empty": "Choose an image file to upload.",
    "too_big": "That file is larger than 1 MB. Choose a smaller image.",
    "not_image": "That file is not a PNG, JPEG or WebP image.",
    "too_many_pixels": "That image is too large (more than 16 million pixels). Choose a smaller one.",
    "broken": "That image could not be read: the file may be damaged.",
}


@dataclass(frozen=True)
class CleanLogo:
    data: bytes
    content_type: str  # "image/png" or "image/jpeg"
    width: int  # pixels
    height: int
    digest: str  # first 16 hex characters of SHA-256(data)


def _refuse(kind: str) -> ValidationFailed:
    return ValidationFailed(MESSAGES[kind], {"logo": MESSAGES[kind]})


def clean_logo(upload: bytes) -> CleanLogo:
    """Decode ``upload`` and re-encode it as described in the module docstring.

    Raises :class:`ValidationFailed` (field ``logo``, messages in :data:`MESSAGES`) for an empty
    file, one over :data:`MAX_BYTES`, anything that is not a PNG, JPEG or WebP image, an image
    over :data:`MAX_SOURCE_PIXELS` (a decompression bomb: refused from its header, before any
    decoding) and a damaged one."""
    if not upload:
        raise _refuse("empty")
    if len(upload) > MAX_BYTES:
        raise _refuse("too_big")
    with warnings.catch_warnings():
        # Pillow warns (then raises) on images past its own pixel limit; ours is lower, but a
        # warning must never let one through.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(upload), formats=FORMATS) as image:
                width, height = image.size
                if width * height > MAX_SOURCE_PIXELS:
                    raise _refuse("too_many_pixels")
                source_format = image.format
                if source_format == "JPEG":
                    image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at a reduced scale: less memory
                image.seek(0)  # an animated PNG or WebP: its first frame
                image.load()
                upright = ImageOps.exif_transpose(image)
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            if isinstance(exc, UnidentifiedImageError):
                raise _refuse("not_image") from None
            raise _refuse("too_many_pixels") from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise _refuse("broken") from None
    return _encode(upright, "jpeg" if source_format == "JPEG" else "png")


def _encode(image: Image.Image, kind: str) -> CleanLogo:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if has_alpha and kind == "png" else "RGB"
    if image.mode != mode:
        if mode == "RGB" and has_alpha:  # a JPEG cannot be transparent: flatten onto white
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        else:
            image = image.convert(mode)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image from the raw pixels: nothing of the upload's ``info`` (EXIF, ICC, text) can follow.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if kind == "jpeg":
        pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type = "image/jpeg"
    else:
        pixels.save(out, "PNG", optimize=True)
        content_type = "image/png"
    data = out.getvalue()
    return CleanLogo(data, content_type, pixels.width, pixels.height, hashlib.sha256(data).hexdigest()[:16])


def set_logo(business: Business, upload: bytes) -> BusinessLogo:
    """Replace ``business``'s logo with ``upload`` (cleaned by :func:`clean_logo`, whose errors
    it raises before writing anything) and commit. Returns the stored row."""
    logo = clean_logo(upload)
    with unit_of_work():
        row = db.session.get(BusinessLogo, business.id)
        if row is None:
            row = BusinessLogo(business_id=business.id)
            db.session.add(row)
        row.data, row.content_type, row.digest = logo.data, logo.content_type, logo.digest
        row.width, row.height = logo.width, logo.height
        business.logo_digest = logo.digest
    return row


def remove_logo(business: Business) -> None:
    """Delete ``business``'s logo, if any, and commit."""
    with unit_of_work():
        row = db.session.get(BusinessLogo, business.id)
        if row is not None:
            db.session.delete(row)
        business.logo_digest = None


def logo_for_slug(slug: str) -> BusinessLogo | None:
    """The logo of the business ``slug`` (None when there is no such business or no logo)."""
    return db.session.execute(
        db.select(BusinessLogo).join(Business, Business.id == BusinessLogo.business_id).where(Business.slug == slug)
    ).scalar_one_or_none()


def set_embed_origins(business: Business, origins: tuple[str, ...] | None) -> None:
    """Let only ``origins`` (canonical, from :func:`app.domain.embedding.parse_origins`) frame
    ``business``'s booking pages, or any site when None, and commit."""
    with unit_of_work():
        business.embed_origins = list(origins) if origins else None
