"""Checks of the service and admin URLs that both builders run in `build()`, so a bad URL fails there with one
wording instead of later in the client (`invalid hostname`, `No service url is provided yet`). No I/O."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from connector.errors import PulsarConfigError

SERVICE_SCHEMES = ("pulsar://", "pulsar+ssl://")
ADMIN_SCHEMES = ("http://", "https://")


def check_service_url(value: object) -> str:
    """`value` as a checked serviceUrl: pulsar:// or pulsar+ssl://, one or more comma-separated host[:port],
    hosts by name or IPv4 address (the Pulsar client rejects a bracketed IPv6 address as `invalid hostname`)."""
    url = check_url(value, "serviceUrl", SERVICE_SCHEMES, several_hosts=True)
    if "[" in url:
        raise PulsarConfigError(f"serviceUrl {url!r} must name hosts by name or IPv4 address: "
                                "the Pulsar client takes no [IPv6] address")
    return url


def check_admin_url(value: object) -> str:
    """`value` as a checked adminUrl: http:// or https:// and one host[:port]."""
    return check_url(value, "adminUrl", ADMIN_SCHEMES)


def check_url(value: object, java_name: str, schemes: tuple[str, ...], several_hosts: bool = False) -> str:
    """Return `value` if it starts with one of `schemes` and names a host with, optionally, a port in 1..65535;
    with `several_hosts`, each of its comma-separated host[:port] entries must. Otherwise raise PulsarConfigError
    naming `java_name` (the Java connector's option name), the value and the cause."""
    if not value:
        setter = "set_" + re.sub("([A-Z])", r"_\1", java_name).lower()
        raise PulsarConfigError(f"{java_name} is not set (got {value!r}): call {setter}(...)")
    if not isinstance(value, str) or not value.startswith(schemes):
        raise PulsarConfigError(f"{java_name} {value!r} must start with one of {', '.join(schemes)}")
    try:
        entries = urlsplit(value).netloc.rpartition("@")[2].split(",")  # host[:port] entries, no user:password@
        hosts = [urlsplit("//" + entry).hostname for entry in entries]
    except ValueError as error:  # e.g. an unclosed [IPv6 address
        raise PulsarConfigError(f"{java_name} {value!r} must be a valid URL ({error})") from None
    if len(entries) > 1 and not several_hosts:
        raise PulsarConfigError(f"{java_name} {value!r} must name one host, not {len(entries)}")
    for entry, host in zip(entries, hosts):
        if not host:
            raise PulsarConfigError(f"{java_name} {value!r} must name a host, as in {schemes[0]}host:port")
        _, colon, port = entry.rpartition("]")[2].partition(":")  # the text after the host's colon, if any
        if colon and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise PulsarConfigError(f"{java_name} {value!r} must have an integer port in 1..65535, not {port!r}")
    return value
