"""Thumbnails: crop and scale semantics, stored sizes, originals, animation, limits, errors."""

import io

import pytest
from PIL import Image

from helpers.media import THUMBNAIL, image_bytes, media_files, upload


def thumb(user, ref, width, height, method=None, **extra):
    query = f"width={width}&height={height}"
    if method:
        query += f"&method={method}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return user.get(f"{THUMBNAIL}/{ref}?{query}")


def opened(response):
    assert response.status_code == 200, response.get_json()
    return Image.open(io.BytesIO(response.data))


def test_crop_gives_the_requested_aspect(client, alice):
    ref = upload(alice, image_bytes(2000, 1000), "image/png", "wide.png")
    response = thumb(alice, ref, 96, 96, "crop")
    image = opened(response)
    assert image.size == (96, 96)
    assert image.format == "PNG"
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'inline; filename="thumbnail.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")


def test_scale_keeps_the_aspect_ratio(client, alice):
    ref = upload(alice, image_bytes(2000, 1000), "image/png")
    assert opened(thumb(alice, ref, 320, 240, "scale")).size == (320, 160)
    assert opened(thumb(alice, ref, 640, 480)).size == (640, 320)  # scale is the default


def test_never_smaller_than_requested(client, alice):
    ref = upload(alice, image_bytes(2000, 1000), "image/png")
    # Between configured sizes: the next larger one.
    assert opened(thumb(alice, ref, 64, 64, "crop")).size == (96, 96)
    assert opened(thumb(alice, ref, 20, 20, "crop")).size == (32, 32)
    assert opened(thumb(alice, ref, 400, 300, "scale")).size == (640, 320)
    # Larger than every configured size: the original.
    response = thumb(alice, ref, 1000, 1000, "scale")
    assert opened(response).size == (2000, 1000)


def test_small_images_are_served_as_they_are(client, alice):
    data = image_bytes(50, 40)
    ref = upload(alice, data, "image/png")
    for method in ("crop", "scale"):
        response = thumb(alice, ref, 96, 96, method)
        assert response.status_code == 200
        assert response.data == data


def test_no_upscaling_when_one_side_is_small(client, alice):
    ref = upload(alice, image_bytes(50, 400), "image/png")
    assert opened(thumb(alice, ref, 96, 96, "crop")).size == (50, 96)
    assert opened(thumb(alice, ref, 320, 240, "scale")).size == (30, 240)


def test_jpeg_thumbnails_are_jpeg(client, alice):
    ref = upload(alice, image_bytes(1200, 900, "JPEG"), "image/jpeg")
    response = thumb(alice, ref, 320, 240, "scale")
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"] == 'inline; filename="thumbnail.jpg"'
    assert opened(response).size == (320, 240)


def test_exif_orientation_is_applied(client, alice):
    image = Image.new("RGB", (400, 200), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when displayed
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    ref = upload(alice, out.getvalue(), "image/jpeg")
    assert opened(thumb(alice, ref, 320, 240, "scale")).size == (120, 240)


def test_thumbnails_are_stored_and_bounded(app, client, alice):
    ref = upload(alice, image_bytes(1500, 1500), "image/png")
    first = thumb(alice, ref, 96, 96, "crop")
    assert len(media_files(app, "thumbnails")) == 1
    again = thumb(alice, ref, 96, 96, "crop")
    assert again.data == first.data
    for size in range(33, 97, 7):  # many requested sizes, one stored thumbnail
        assert opened(thumb(alice, ref, size, size, "crop")).size == (96, 96)
    assert len(media_files(app, "thumbnails")) == 1
    # The same bytes uploaded again share their thumbnails.
    other = upload(alice, image_bytes(1500, 1500), "image/png")
    assert thumb(alice, other, 96, 96, "crop").data == first.data
    assert len(media_files(app, "thumbnails")) == 1


def animated_gif(frames=3, size=(400, 300)):
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGB", size, colors[i % len(colors)]) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def test_animated_images_give_their_first_frame(client, alice):
    ref = upload(alice, animated_gif(), "image/gif")
    for extra in ({}, {"animated": "false"}):
        image = opened(thumb(alice, ref, 96, 96, "crop", **extra))
        assert not getattr(image, "is_animated", False)
        red, green, blue = image.convert("RGB").getpixel((48, 48))[:3]
        assert red > 200 and green < 50 and blue < 50
    # Small animated originals are not served as they are unless animation is asked for.
    small = upload(alice, animated_gif(size=(40, 30)), "image/gif")
    image = opened(thumb(alice, small, 96, 96, "scale"))
    assert not getattr(image, "is_animated", False)
    assert image.size == (40, 30)


def test_animated_thumbnail_when_asked(client, alice):
    ref = upload(alice, animated_gif(frames=4), "image/gif")
    response = thumb(alice, ref, 96, 96, "crop", animated="true")
    assert response.headers["Content-Type"] == "image/webp"
    image = opened(response)
    assert image.size == (96, 96)
    assert image.is_animated and image.n_frames == 4
    # A still image asked for animated: a still thumbnail.
    still = upload(alice, image_bytes(500, 500), "image/png")
    response = thumb(alice, still, 96, 96, "crop", animated="true")
    assert response.headers["Content-Type"] == "image/png"


def test_non_image_cannot_be_thumbnailed(client, alice):
    ref = upload(alice, b"%PDF-1.4 not an image", "application/pdf")
    response = thumb(alice, ref, 96, 96)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_UNKNOWN"
    # A format Pillow knows but this server does not decode for safety.
    tiff = upload(alice, image_bytes(200, 200, "TIFF"), "image/tiff")
    assert thumb(alice, tiff, 96, 96).status_code == 400


def test_images_over_the_pixel_limit_are_not_decoded(make_app, register_user_for):
    app = make_app(media={"max_image_pixels": 100 * 100})
    bob = register_user_for(app, "bob")
    ref = upload(bob, image_bytes(101, 100), "image/png")
    response = thumb(bob, ref, 32, 32, "crop")
    assert response.status_code == 413
    assert response.get_json()["errcode"] == "M_TOO_LARGE"
    ok = upload(bob, image_bytes(100, 100), "image/png")
    assert opened(thumb(bob, ok, 32, 32, "crop")).size == (32, 32)


@pytest.mark.parametrize("query, errcode", [
    ("height=32", "M_MISSING_PARAM"),
    ("width=32", "M_MISSING_PARAM"),
    ("width=0&height=32", "M_INVALID_PARAM"),
    ("width=-5&height=32", "M_INVALID_PARAM"),
    ("width=abc&height=32", "M_INVALID_PARAM"),
    ("width=3.5&height=32", "M_INVALID_PARAM"),
    ("width=32&height=32&method=stretch", "M_INVALID_PARAM"),
    ("width=32&height=32&animated=yes", "M_INVALID_PARAM"),
])
def test_bad_thumbnail_parameters(client, alice, query, errcode):
    ref = upload(alice, image_bytes(100, 100), "image/png")
    response = alice.get(f"{THUMBNAIL}/{ref}?{query}")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == errcode


def test_thumbnail_requires_auth_and_local_media(client, alice):
    ref = upload(alice, image_bytes(100, 100), "image/png")
    assert client.get(f"{THUMBNAIL}/{ref}?width=32&height=32").status_code == 401
    media_id = ref.split("/", 1)[1]
    response = thumb(alice, f"example.org/{media_id}", 32, 32)
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"


def test_thumbnail_of_pending_media(client, alice):
    response = alice.post("/_matrix/media/v1/create", json={})
    ref = response.get_json()["content_uri"][len("mxc://"):]
    response = thumb(alice, ref, 32, 32, timeout_ms=0)
    assert response.status_code == 504
    assert response.get_json()["errcode"] == "M_NOT_YET_UPLOADED"


def test_legacy_thumbnail_follows_the_freeze(make_app, register_user_for):
    app = make_app(media={"legacy_unauthenticated_cutoff_ts": None})
    ref = upload(register_user_for(app, "alice"), image_bytes(300, 300), "image/png")
    response = app.test_client().get(f"/_matrix/media/v3/thumbnail/{ref}?width=32&height=32"
                                     "&method=crop")
    assert opened(response).size == (32, 32)
    frozen = make_app()
    response = frozen.test_client().get(f"/_matrix/media/v3/thumbnail/{ref}?width=32&height=32")
    assert response.status_code == 404
