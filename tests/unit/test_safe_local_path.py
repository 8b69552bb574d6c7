"""``safe_local_path``: the one check of redirect targets taken from a request (issue 13.3)."""

from __future__ import annotations

import pytest

from carenet.security import safe_local_path

ACCEPTED = [
    "/",
    "/account",
    "/admin/audit?actor=a%40b.org&page=2",
    "/search?q=food%20bank&near=33130",
    "/search?q=caf%C3%A9",
    "/services/abc#hours",
    "/a%2Fb",  # an encoded slash inside a path stays a path
    "/x?next=//evil.example",  # a query is not a host
]

REFUSED = [
    None,
    "",
    "account",  # relative
    "evil.example",
    "//evil.example/x",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example/x",  # the measured bypass: the tab is dropped → //evil.example/x
    "/%09/evil.example/x",
    "/\r\n/evil.example",
    "/%0d%0a/evil.example",
    "/\n/evil.example",
    "/%0A/evil.example",
    "/\x00/evil.example",
    "/%00/evil.example",
    "/\x7f/evil.example",
    "/ /evil.example",
    "/%20/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%252F/evil.example",  # double-encoded
    "/%25252F/evil.example",  # triple-encoded
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%255Cevil.example",
    "https://evil.example/",
    "http:/evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,x",
    "/\u2028/evil.example",  # line separator
    "/\u200b/evil.example",  # zero-width space
    "/\uff0fevil.example",  # fullwidth solidus
    "/\u2215evil.example",  # division slash
    "/search?q=%0d%0aSet-Cookie:x=1",  # header splitting in the query
    "/" + "a" * 2048,
    "/%2525252541",  # still encoded after three rounds of decoding
]


@pytest.mark.parametrize("target", ACCEPTED)
def test_local_paths_are_kept_as_they_are(target):
    assert safe_local_path(target) == target


@pytest.mark.parametrize("target", REFUSED)
def test_anything_else_is_refused(target):
    assert safe_local_path(target) is None
