from flask.testing import FlaskClient

from tests.conftest import sign_in
from tests.factories import Person


def test_sign_in_page_renders(client: FlaskClient) -> None:
    response = client.get("/auth/sign-in")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_admin_signs_in_and_sees_users(client: FlaskClient, admin: Person) -> None:
    sign_in(client, admin)
    response = client.get("/admin/users")
    assert response.status_code == 200
    assert admin.email.encode() in response.data
