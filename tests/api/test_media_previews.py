"""URL previews against a small local HTTP server (loopback is allow-listed only here)."""

import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from helpers.local_http import LocalHTTPServer
from helpers.media import DOWNLOAD, THUMBNAIL, image_bytes, media_files

PREVIEW = "/_matrix/client/v1/media/preview_url"
PNG = image_bytes(400, 300)

PAGE = """<!doctype html><html><head>
<meta charset="utf-8">
<title>Ignored title</title>
<meta property="og:title" content="Matrix Blog Post">
<meta property="og:description" content="This is a really cool blog post &amp; more">
<meta property="og:image" content="/img.png">
<meta property="og:type" content="article">
</head><body><h1>Hello</h1></body></html>"""

PLAIN = """<html><head><title>  Plain
 Page </title><meta name="description" content="Only a description"></head>
<body>é</body></html>"""


class Handler(BaseHTTPRequestHandler):
    hits: dict = {}
    # /slow answers only once the test has seen the preview give up (set by the test).
    slow_release = threading.Event()

    def log_message(self, *args):
        """Quiet: the test run's output stays clean."""

    def _send(self, status, content_type, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Handler.hits[self.path] = Handler.hits.get(self.path, 0) + 1
        port = self.server.server_address[1]
        path = self.path.split("?", 1)[0]
        if path == "/page.html":
            self._send(200, "text/html; charset=utf-8", PAGE.encode())
        elif path == "/plain.html":
            self._send(200, "text/html; charset=utf-8", PLAIN.encode())
        elif path == "/img.png":
            self._send(200, "image/png", PNG)
        elif path == "/redirect":
            self._send(302, "text/plain", b"", [("Location", f"http://127.0.0.1:{port}/page.html")])
        elif path == "/redirect-private":
            self._send(302, "text/plain", b"", [("Location", "http://10.1.2.3/secret")])
        elif path == "/loop":
            self._send(302, "text/plain", b"", [("Location", "/loop")])
        elif path == "/big":
            self._send(200, "text/html", b"<html>" + b"a" * 300_000)
        elif path == "/slow":
            Handler.slow_release.wait(60)
            self._send(200, "text/html", b"<title>late</title>")
        elif path == "/file.bin":
            self._send(200, "application/octet-stream", b"\x00" * 10)
        else:
            self._send(404, "text/plain", b"nope")


@pytest.fixture(scope="module")
def site():
    server = LocalHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


PREVIEWS_ON = {"enabled": True, "ip_range_allowlist": ["127.0.0.1/32"],
               "max_page_size": 100_000, "timeout_s": 1.0, "max_redirects": 3}


@pytest.fixture
def previewer(make_app, register_user_for):
    """alice, on an app with URL previews on (``.app``)."""
    app = make_app(media={"url_preview": PREVIEWS_ON})
    user = register_user_for(app, "alice")
    user.app = app
    return user


def preview(user, url, **kw):
    return user.get(PREVIEW, query_string={"url": url, **kw})


def test_previews_are_off_by_default(client, register_user, site):
    before = dict(Handler.hits)
    response = preview(register_user("bob"), f"{site}/page.html")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_UNRECOGNIZED"
    assert Handler.hits == before


def test_open_graph_preview_with_image(previewer, site):
    response = preview(previewer, f"{site}/page.html")
    assert response.status_code == 200, response.get_json()
    og = response.get_json()
    assert og["og:title"] == "Matrix Blog Post"
    assert og["og:description"] == "This is a really cool blog post & more"
    assert og["og:type"] == "article"
    assert og["og:image"].startswith("mxc://localhost:8008/")
    assert og["og:image:type"] == "image/png"
    assert og["og:image:width"] == 400 and og["og:image:height"] == 300
    assert og["matrix:image:size"] == len(PNG)
    ref = og["og:image"][len("mxc://"):]
    assert previewer.get(f"{DOWNLOAD}/{ref}").data == PNG
    assert media_files(previewer.app, "thumbnails")  # the preview image was thumbnailed
    assert previewer.get(f"{THUMBNAIL}/{ref}?width=320&height=240").status_code == 200


def test_title_and_description_fallbacks(previewer, site):
    og = preview(previewer, f"{site}/plain.html").get_json()
    assert og == {"og:title": "Plain Page", "og:description": "Only a description"}


def test_preview_of_an_image_url(previewer, site):
    og = preview(previewer, f"{site}/img.png").get_json()
    assert og["og:image"].startswith("mxc://")
    assert og["og:title"] == "img.png"
    assert og["matrix:image:size"] == len(PNG)


def test_other_content_gives_an_empty_preview(previewer, site):
    assert preview(previewer, f"{site}/file.bin").get_json() == {}


def test_previews_are_cached(previewer, site):
    before = Handler.hits.get("/plain.html?cached", 0)
    first = preview(previewer, f"{site}/plain.html?cached")
    second = preview(previewer, f"{site}/plain.html?cached", ts=str(int(time.time() * 1000)))
    assert first.get_json() == second.get_json()
    assert Handler.hits["/plain.html?cached"] == before + 1


def test_redirects_are_followed_and_checked(previewer, site):
    assert preview(previewer, f"{site}/redirect").get_json()["og:title"] == "Matrix Blog Post"
    response = preview(previewer, f"{site}/redirect-private")
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    response = preview(previewer, f"{site}/loop")
    assert response.status_code == 502


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.1", "169.254.169.254", "[::1]",
                                  "0.0.0.0", "[fe80::1]", "100.64.0.1", "224.0.0.1",
                                  "[::ffff:10.0.0.1]", "localhost"])
def test_non_public_addresses_are_refused(make_app, register_user_for, host):
    # Loopback is not allow-listed here, so even the test site is refused after resolving.
    app = make_app(media={"url_preview": {"enabled": True, "timeout_s": 1.0}})
    bob = register_user_for(app, "bob")
    response = preview(bob, f"http://{host}:9/")
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["errcode"] == "M_FORBIDDEN"


def test_allow_listed_loopback_still_obeys_the_deny_list(make_app, register_user_for, site):
    app = make_app(media={"url_preview": {**PREVIEWS_ON, "ip_range_allowlist": [],
                                          "ip_range_denylist": ["127.0.0.0/8"]}})
    response = preview(register_user_for(app, "bob"), f"{site}/page.html")
    assert response.status_code == 403


def test_size_and_time_are_bounded(previewer, site):
    response = preview(previewer, f"{site}/big")
    assert response.status_code == 502
    assert response.get_json()["errcode"] == "M_TOO_LARGE"
    Handler.slow_release.clear()  # the other database's run of this test set it
    try:
        response = preview(previewer, f"{site}/slow")
    finally:
        Handler.slow_release.set()
    assert response.status_code == 502
    assert response.get_json()["errcode"] == "M_UNKNOWN"


def test_bad_urls(previewer, site):
    for url in ("ftp://example.org/", "file:///etc/passwd", "not a url", "http://"):
        response = preview(previewer, url)
        assert response.status_code == 400, url
        assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    response = previewer.get(PREVIEW)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_MISSING_PARAM"
    assert preview(previewer, f"{site}/missing").status_code == 502


def test_preview_requires_auth_and_legacy_path_works(previewer, site):
    assert previewer.app.test_client().get(PREVIEW, query_string={"url": site}).status_code == 401
    response = previewer.get("/_matrix/media/v3/preview_url",
                             query_string={"url": f"{site}/plain.html"})
    assert response.get_json()["og:title"] == "Plain Page"
