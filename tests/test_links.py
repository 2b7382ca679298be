"""links_for (referral.templating): a list page's link per line is url_for's URL, built
once per page instead of once per line."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from referral.templating import links_for

ENDPOINTS = ("cases.show", "psea.show", "referrals.show", "admin.edit_user")
VALUES = ("5GYCDV0TPG9RS30J", "7", "abcXYZ019", "with space", "ü", "a/b", "%41", "")


@pytest.mark.parametrize("base", ["http://localhost/", "https://example.org/referral/"])
def test_links_for_gives_url_for_of_every_value(app: Flask, base: str) -> None:
    """The same URL as url_for, under a script root too; a value that is not letters and
    digits goes through url_for itself (an empty one is refused as url_for refuses it)."""
    with app.test_request_context(base_url=base):
        for endpoint in ENDPOINTS:
            link = links_for(endpoint)
            for value in VALUES:
                try:
                    expected = url_for(endpoint, public_id=value)
                except Exception as refused:  # whatever url_for raises
                    with pytest.raises(type(refused)):
                        link(value)
                    continue
                assert link(value) == expected, (endpoint, value)


def test_links_for_a_query_argument_is_url_for_too(app: Flask) -> None:
    with app.test_request_context():
        link = links_for("referrals.queue", "code")
        for value in VALUES:
            assert link(value) == url_for("referrals.queue", code=value), value
