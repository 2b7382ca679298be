"""Headers, CSRF, caching, health check and error pages."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import csrf_from, sign_in
from tests.factories import Person


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    for url in ("/auth/sign-in", "/healthz", "/no-such-page", "/static/style.css"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_hsts_when_served_over_https(client: FlaskClient) -> None:
    headers = client.get("/auth/sign-in", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def _https_sign_in_post(client: FlaskClient, admin: Person, **headers: str) -> int:
    html = client.get("/auth/sign-in", base_url="https://referral.example").get_data(as_text=True)
    return int(
        client.post(
            "/auth/sign-in",
            base_url="https://referral.example",
            data={"email": admin.email, "password": admin.password, "csrf_token": csrf_from(html)},
            headers=headers,
        ).status_code
    )


def test_item1_https_post_from_the_same_origin_is_accepted_without_a_referer(
    client: FlaskClient, admin: Person
) -> None:
    """Browsers that send no Referer (a strict referrer policy) can still sign in over HTTPS:
    the Origin header proves the form came from this site."""
    assert _https_sign_in_post(client, admin, Origin="https://referral.example") == 302


def test_item1_https_post_with_a_same_origin_referer_is_accepted(
    client: FlaskClient, admin: Person
) -> None:
    referer = "https://referral.example/auth/sign-in"
    assert _https_sign_in_post(client, admin, Referer=referer) == 302


def test_item1_https_post_from_another_origin_is_refused(
    client: FlaskClient, admin: Person
) -> None:
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "http://referral.example"},  # downgraded scheme
        {"Origin": "null"},
        {"Referer": "https://evil.example/auth/sign-in"},
        {},  # neither header
    ):
        assert _https_sign_in_post(client, admin, **headers) == 400, headers


def test_signed_in_pages_are_not_cached(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    for url in ("/", "/admin/users", "/auth/account"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


def test_post_without_csrf_token_is_refused(client: FlaskClient, admin: Person) -> None:
    response = client.post("/auth/sign-in", data={"email": admin.email, "password": admin.password})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_post_with_another_sessions_csrf_token_is_refused(
    client: FlaskClient, admin: Person
) -> None:
    other = client.application.test_client()
    foreign_token = csrf_from(other.get("/auth/sign-in").get_data(as_text=True))
    client.get("/auth/sign-in")
    response = client.post(
        "/auth/sign-in",
        data={"email": admin.email, "password": admin.password, "csrf_token": foreign_token},
    )
    assert response.status_code == 400


def test_signed_in_post_without_csrf_is_refused(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    assert client.post("/auth/sign-out-everywhere").status_code == 400
    assert client.get("/").status_code == 200  # nothing happened


def test_health_check(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_unknown_page_is_a_clear_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_oversized_request_is_refused(client: FlaskClient) -> None:
    response = client.post("/auth/sign-in", data={"email": "x" * 2_000_000, "password": "y"})
    assert response.status_code == 413


def test_pages_and_stylesheet_are_gzipped_when_asked(client: FlaskClient) -> None:
    import gzip

    for url in ("/auth/sign-in", "/static/style.css"):
        plain = client.get(url)
        zipped = client.get(url, headers={"Accept-Encoding": "gzip, br"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["Vary"]
        assert gzip.decompress(zipped.data) == plain.data
        assert len(zipped.data) < len(plain.data)


def test_stylesheet_and_script_are_cached_per_version(client: FlaskClient) -> None:
    import re

    html = client.get("/auth/sign-in").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert sorted(url.split("?")[0] for url in urls) == ["/static/app.js", "/static/style.css"]
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{10}$", url), url
        cache_control = client.get(url).headers["Cache-Control"]
        assert "max-age=31536000" in cache_control and "immutable" in cache_control
    # An old or missing version is served, but revalidated rather than kept for a year.
    for url in ("/static/style.css", "/static/style.css?v=0000000000"):
        assert "max-age" not in client.get(url).headers.get("Cache-Control", "")


def test_item1_token_api_over_https_needs_no_origin(client: FlaskClient) -> None:
    """The API is authenticated by a bearer token, not a cookie: no Origin is asked."""
    response = client.post("/api/v1/referrals/incoming/X/accept", base_url="https://r.example")
    assert response.status_code == 401, response.status_code
