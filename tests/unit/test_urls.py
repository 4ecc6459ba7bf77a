"""serviceUrl and adminUrl are checked at build() by one function, with one wording: option, value, cause."""

from __future__ import annotations

import re

import pytest

from connector.serde import SimpleStringSchema
from connector.sink import PulsarSink
from connector.source.builder import PulsarSource
from connector.urls import check_admin_url, check_service_url


@pytest.mark.parametrize("url", [
    "pulsar://127.0.0.1:6650",
    "pulsar://h1:6650,h2:6650,h3:6650",
    "pulsar+ssl://broker.example.com:6651",
    "pulsar://broker",
])
def test_good_service_urls_pass(url: str) -> None:
    assert check_service_url(url) == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "https://admin.example.com:8443/", "http://admin",
                                 "http://[::1]:8080"])
def test_good_admin_urls_pass(url: str) -> None:
    assert check_admin_url(url) == url


@pytest.mark.parametrize(("url", "cause"), [
    ("", "serviceUrl is not set (got ''): call set_service_url(...)"),
    (None, "serviceUrl is not set (got None): call set_service_url(...)"),
    ("http://h:6650", "serviceUrl 'http://h:6650' must start with one of pulsar://, pulsar+ssl://"),
    ("pulsar://", "serviceUrl 'pulsar://' must name a host, as in pulsar://host:port"),
    ("pulsar://:6650", "serviceUrl 'pulsar://:6650' must name a host, as in pulsar://host:port"),
    ("pulsar://h1:6650,", "serviceUrl 'pulsar://h1:6650,' must name a host, as in pulsar://host:port"),
    ("pulsar://h:66500", "serviceUrl 'pulsar://h:66500' must have an integer port in 1..65535, not '66500'"),
    ("pulsar://h:0", "serviceUrl 'pulsar://h:0' must have an integer port in 1..65535, not '0'"),
    ("pulsar://h:abc", "serviceUrl 'pulsar://h:abc' must have an integer port in 1..65535, not 'abc'"),
    ("pulsar://[::1]:6650", "serviceUrl 'pulsar://[::1]:6650' must name hosts by name or IPv4 address: "
                            "the Pulsar client takes no [IPv6] address"),
    ("pulsar://[::1", "serviceUrl 'pulsar://[::1' must be a valid URL (Invalid IPv6 URL)"),
    ("pulsar://h1:6650,h2:x", "serviceUrl 'pulsar://h1:6650,h2:x' must have an integer port in 1..65535, not 'x'"),
])
def test_bad_service_url_names_option_value_and_cause(url: str | None, cause: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(cause)}$"):
        check_service_url(url)


@pytest.mark.parametrize(("url", "cause"), [
    (None, "adminUrl is not set (got None): call set_admin_url(...)"),
    ("pulsar://h:8080", "adminUrl 'pulsar://h:8080' must start with one of http://, https://"),
    ("http://", "adminUrl 'http://' must name a host, as in http://host:port"),
    ("http://h:66500", "adminUrl 'http://h:66500' must have an integer port in 1..65535, not '66500'"),
    ("http://h1:8080,h2:8080", "adminUrl 'http://h1:8080,h2:8080' must name one host, not 2"),
])
def test_bad_admin_url_names_option_value_and_cause(url: str | None, cause: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(cause)}$"):
        check_admin_url(url)


def test_source_build_rejects_an_out_of_range_port() -> None:
    # URLs are checked first in build(): nothing else needs to be set to reach the check.
    builder = PulsarSource.builder().set_service_url("pulsar://127.0.0.1:66500")
    with pytest.raises(ValueError, match=re.escape("serviceUrl 'pulsar://127.0.0.1:66500' must have an integer port")):
        builder.build()


def test_sink_build_rejects_an_out_of_range_port() -> None:
    builder = (PulsarSink.builder().set_service_url("pulsar://127.0.0.1:66500").set_topics("out")
               .set_serialization_schema(SimpleStringSchema()))
    with pytest.raises(ValueError, match=re.escape("serviceUrl 'pulsar://127.0.0.1:66500' must have an integer port")):
        builder.build()


def test_sink_build_checks_an_admin_url_when_one_is_set() -> None:
    builder = (PulsarSink.builder().set_service_url("pulsar://127.0.0.1:6650").set_admin_url("http://127.0.0.1:0")
               .set_topics("out").set_serialization_schema(SimpleStringSchema()))
    with pytest.raises(ValueError, match=re.escape("adminUrl 'http://127.0.0.1:0' must have an integer port")):
        builder.build()
