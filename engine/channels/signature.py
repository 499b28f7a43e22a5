"""Twilio's `X-Twilio-Signature`: the URL Twilio called plus every sorted parameter, HMAC-SHA1
with the account's auth token, base64-encoded.

`sign` is twilio-python's `RequestValidator.compute_signature`; the check builds the same
string once for both URL candidates (all parameters, names sorted, repeated values sorted),
and the tests hold it to the library on generated parameters.
Like `RequestValidator.validate`, a signature is accepted for the URL with and without its
default port; unlike it, the comparison is `hmac.compare_digest`.

Twilio signs the public URL it was configured with. Behind a TLS-terminating proxy the app
sees another scheme/host: `expected_url` puts the configured public base in front of the
path, and without one `forwarded_url` rebuilds it from a trusted proxy's headers.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import RequestValidator, add_port, remove_port

SIGNATURE_HEADER = "X-Twilio-Signature"


class MultiValues(Protocol):
    """A multi-dict such as Starlette's `FormData` or `QueryParams`."""

    def getlist(self, key: Any) -> list[Any]: ...

    def keys(self) -> Iterable[str]: ...


Params = Mapping[str, str] | Mapping[str, list[str]] | MultiValues


def sign(auth_token: str, url: str, params: Params) -> str:
    """The signature Twilio sends for a POST of `params` to `url`."""
    values = params if isinstance(params, _AllValues) else _AllValues(params)
    return RequestValidator(auth_token).compute_signature(url, values)


def is_valid_signature(auth_token: str, url: str, params: Params, signature: str | None) -> bool:
    """True when `signature` (the X-Twilio-Signature header) signs `url` and all `params`.

    `params` are the decoded form fields exactly as received — every one, since Twilio adds
    parameters without notice. A missing or empty signature is invalid.
    """
    if not signature or not auth_token:
        return False
    given = signature.strip().encode()
    signed = _signed_params(_AllValues(params))
    key = auth_token.encode()
    # Each comparison takes constant time; which URL form matched is no secret (the URL is
    # public), so the form Twilio is configured with, tried first, usually costs one HMAC.
    return any(hmac.compare_digest(_digest(key, candidate + signed), given) for candidate in _candidates(url))


def _signed_params(values: _AllValues) -> str:
    """What follows the URL in the signed string, as `RequestValidator.compute_signature`
    builds it: each name (sorted) followed by each of its distinct values (sorted). Built
    once for all the URL candidates; `test_signature` checks it against the library."""
    parts: list[str] = []
    for name in sorted(values):
        given = values.getall(name)
        for value in given if len(given) == 1 else sorted(set(given)):
            parts += (name, value)
    return "".join(parts)


def _digest(key: bytes, text: str) -> bytes:
    return base64.b64encode(hmac.digest(key, text.encode("utf-8"), hashlib.sha1))


@functools.lru_cache(maxsize=256)
def _candidates(url: str) -> tuple[str, ...]:
    """`url` as given, then with and without its default port (each URL once); a web
    process sees a handful of URLs, so this is worked out once for each."""
    parsed = urlsplit(url)
    return tuple(dict.fromkeys((url, add_port(parsed), remove_port(parsed))))


def expected_url(public_base_url: str, path: str, query: str) -> str:
    """The URL Twilio signed: the configured public base, then path and query byte for byte.

    A base with a path (`https://example.com/bot`) is kept as a prefix of `path`.
    """
    url = public_base_url.rstrip("/") + "/" + path.lstrip("/")
    return f"{url}?{query}" if query else url


def forwarded_url(
    request_url: str,
    headers: Mapping[str, str],
    trusted_proxies: Collection[str],
    client_host: str | None,
) -> str:
    """The public URL of a request behind a proxy, for signature checks when no
    `PUBLIC_BASE_URL` is set (`engine.web.whatsapp.signed_url`).

    `X-Forwarded-Proto`/`X-Forwarded-Host` are used only when the peer (`client_host`) is a
    trusted proxy — an address or a network such as `10.0.0.0/8` — since anyone else could
    forge them. Otherwise the URL as the app saw it.
    """
    if not _is_trusted(client_host, trusted_proxies):
        return request_url
    parts = urlsplit(request_url)
    scheme = _first(headers, "x-forwarded-proto").lower()
    host = _first(headers, "x-forwarded-host")
    if scheme not in ("http", "https"):
        scheme = parts.scheme
    if not host or any(c in host for c in "/?#@ \\"):
        host = parts.netloc
    return urlunsplit((scheme, host, parts.path, parts.query, ""))


def _first(headers: Mapping[str, str], name: str) -> str:
    """First value of a comma-separated proxy header (the one the outermost proxy set)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return value.split(",")[0].strip()


def _is_trusted(client_host: str | None, trusted_proxies: Collection[str]) -> bool:
    if not client_host or not trusted_proxies:
        return False
    if client_host in trusted_proxies:
        return True
    try:
        address = ipaddress.ip_address(client_host)
    except ValueError:
        return False
    for entry in trusted_proxies:
        try:
            if "/" in entry and address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class _AllValues:
    """Presents any of the accepted param shapes with `getall`/`getlist`, which
    RequestValidator reads (a plain dict would give it one value per name). The values are
    read once, so checking the URL with and without its port reads them once; a dict of
    lists (a parsed form) is used as it is."""

    def __init__(self, params: Params) -> None:
        if isinstance(params, dict) and all(isinstance(v, list) for v in params.values()):
            self._values: dict[str, list[str]] = params
            return
        getlist = getattr(params, "getlist", None)
        self._values = {}
        for name in list(params.keys()):
            if getlist is not None:
                values = getlist(name)
            else:
                value = params[name]  # type: ignore[index]
                values = value if isinstance(value, list | tuple) else [value]
            self._values[name] = [str(v) for v in values]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def getall(self, name: str) -> list[str]:
        return self._values[name]

    getlist = getall
