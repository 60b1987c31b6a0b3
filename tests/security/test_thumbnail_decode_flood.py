"""Attack: many thumbnail requests at once, each making the server decode a large image.

Decoding holds one of the process's ``media.max_concurrent_thumbnails`` slots; a request that
finds none free within ``media.thumbnail_wait_ms`` is answered 429 M_LIMIT_EXCEEDED instead of
taking another core. A decode in progress is simulated by holding the slot.
"""

from homeserver.services.media import thumbnails
from helpers.media import THUMBNAIL, image_bytes, upload


def test_decodes_beyond_the_limit_are_refused(make_app, register_user_for):
    app = make_app(media={"max_concurrent_thumbnails": 1, "thumbnail_wait_ms": 0})
    mallory = register_user_for(app, "mallory")
    ref = upload(mallory, image_bytes(600, 400), "image/png")
    media_config = app.config["HOMESERVER"].media
    with thumbnails.decode_slot(media_config):  # another request is decoding
        response = mallory.get(f"{THUMBNAIL}/{ref}?width=32&height=32&method=crop")
        assert response.status_code == 429
        body = response.get_json()
        assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0
    response = mallory.get(f"{THUMBNAIL}/{ref}?width=32&height=32&method=crop")
    assert response.status_code == 200
    # A stored thumbnail needs no decoding: served even while every slot is busy.
    with thumbnails.decode_slot(media_config):
        response = mallory.get(f"{THUMBNAIL}/{ref}?width=32&height=32&method=crop")
        assert response.status_code == 200
