"""core.clientip: the client address behind trusted proxies, for rate limits."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from commonground.core.clientip import client_address, rate_limit_key


def _request(remote: str = "10.0.0.1", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.COMMONGROUND_TRUSTED_PROXIES = 0
    assert client_address(_request("192.0.2.7", "198.51.100.1")) == "192.0.2.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.1", "198.51.100.1"),
        # Whatever the client wrote itself stays to the left and is never read.
        (1, "1.2.3.4, 5.6.7.8, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (1, " 2001:db8::5 ", "2001:db8::5"),
        (1, "[2001:db8::5]:443", "2001:db8::5"),
        (1, "198.51.100.1:5555", "198.51.100.1"),
    ],
)
def test_the_client_is_the_nth_address_from_the_right(
    settings, proxies, forwarded, expected
):
    settings.COMMONGROUND_TRUSTED_PROXIES = proxies
    assert client_address(_request(forwarded=forwarded)) == expected


@pytest.mark.parametrize("forwarded", [None, "", "198.51.100.1", "not-an-address, x"])
def test_a_request_that_skipped_a_proxy_counts_as_the_connecting_address(
    settings, forwarded
):
    settings.COMMONGROUND_TRUSTED_PROXIES = 2
    assert client_address(_request("10.0.0.9", forwarded)) == "10.0.0.9"


def test_ipv6_clients_share_an_allowance_per_64_and_mapped_ipv4_is_ipv4():
    assert rate_limit_key("2001:db8:1:2:aaaa::1") == rate_limit_key("2001:db8:1:2::ff")
    assert rate_limit_key("2001:db8:1:3::1") != rate_limit_key("2001:db8:1:2::1")
    assert rate_limit_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert rate_limit_key("192.0.2.1") == "192.0.2.1"
