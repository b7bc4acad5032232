"""Loading a WSDL without letting it reach anything the operator did not name.

zeep follows every ``xsd:import``, ``xsd:include`` and ``wsdl:import`` it meets, fetching URLs with
``requests`` and no timeout. A gateway must not: a WSDL is loaded once at startup, from local
files, and the only network fetch ever made is the WSDL itself when the option is an http(s) URL
(plus documents on that same origin, as JAX-WS ``?xsd=1`` imports are).

Every document zeep asks for passes through :class:`LocalOnlyTransport.load`, which

- refuses any document carrying a ``<!DOCTYPE>`` (entity expansion, external DTDs);
- looks at each import of the document *before zeep does*: relative paths of a local document are
  allowed (they name files beside it); a URL, an absolute path or a namespace listed in
  ``schema_locations`` is rewritten to point at the local copy; anything else stops the load with
  an error naming the URL and how to allowlist it;
- serves only the entry document, files allowed that way, and same-origin URLs of a URL WSDL;
- remembers the digest of every local file it served (:attr:`LocalOnlyTransport.read`) and of
  every document it fetched (:attr:`LocalOnlyTransport.fetched`), so a reload can tell whether
  the WSDL or a schema changed since (:func:`fetch_document` fetches one again).

zeep's own ``forbid_external`` would refuse allowlisted URLs before this transport could map them,
so it is off while loading (this transport is the gate) and switched on once the WSDL is loaded.
Loading blocks: call :func:`load_client` in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urljoin, urlparse

import requests
import zeep
from lxml import etree
from zeep.transports import Transport

from adapters.sources import SourceFiles

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "LocalOnlyTransport",
    "WsdlLoadError",
    "fetch_document",
    "is_url",
    "load_client",
]

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
_XSD = "http://www.w3.org/2001/XMLSchema"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_IMPORTS = {
    f"{{{_XSD}}}import": "schemaLocation",
    f"{{{_XSD}}}include": "schemaLocation",
    f"{{{_XSD}}}redefine": "schemaLocation",
    f"{{{_WSDL}}}import": "location",
}
#: zeep fetches this schema by URL when a document imports the namespace without a location.
_IMPLIED = {"http://www.w3.org/XML/1998/namespace": "https://www.w3.org/2001/xml.xsd"}


class WsdlLoadError(ValueError):
    """The WSDL, or something it imports, cannot be loaded under the gateway's rules."""


def is_url(location: str) -> bool:
    return urlparse(location).scheme in {"http", "https"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlparse(url)
    return parts.scheme, parts.netloc


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class LocalOnlyTransport(Transport):
    """A zeep transport that serves the WSDL's documents from disk, and nothing else."""

    def __init__(
        self,
        entry: str,
        *,
        schema_locations: Mapping[str, str],
        timeout: tuple[float, float] = (5.0, 30.0),
    ) -> None:
        super().__init__(timeout=timeout)
        self.entry = entry
        self._timeout = timeout
        self._remote_origin = _origin(entry) if is_url(entry) else None
        self._locations = {key: os.path.abspath(path) for key, path in schema_locations.items()}
        self._allowed: set[str] = {os.path.realpath(path) for path in self._locations.values()}
        #: every local file served so far, as asked for, with the digest of what was served
        self.read: dict[str, str] = {}
        #: every document fetched by URL so far, with the digest of what was fetched
        self.fetched: dict[str, str] = {}

    def load(self, url: str) -> bytes:
        mapped = self._locations.get(url) or self._locations.get(_toggle_slash(url))
        if mapped is not None:  # zeep auto-imports SOAP-ENC by URL, unasked
            url = mapped
        if is_url(url):
            if self._remote_origin is None or _origin(url) != self._remote_origin:
                raise _refusal(self.entry, url, None)
            content = fetch_document(url, self._timeout, self.session)
            self.fetched[url] = SourceFiles.digest(content)
        else:
            asked = url[7:] if url.startswith("file://") else url
            path = os.path.realpath(asked)
            if url != self.entry and path not in self._allowed:
                raise WsdlLoadError(f"refusing to read {url}: no loaded document imports it")
            try:
                content = Path(path).read_bytes()
            except OSError as exc:
                raise WsdlLoadError(f"cannot read {path}: {exc.strerror}") from exc
            # By the path asked for, not the real one: a symlink swapped to a new version (a
            # Kubernetes ConfigMap) is what the next start would read.
            self.read[asked] = SourceFiles.digest(content)
        return self._vetted(url, content)

    def _vetted(self, url: str, content: bytes) -> bytes:
        """``content`` with its imports checked and mapped; raise if it may not be loaded."""
        try:
            root = etree.fromstring(content, _safe_parser())
        except etree.XMLSyntaxError as exc:
            raise WsdlLoadError(f"{url} is not well-formed XML: {exc}") from exc
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise WsdlLoadError(f"{url} has a <!DOCTYPE>; DTDs are refused (entity attacks)")
        changed = False
        for element in root.iter(*_IMPORTS):
            attribute = _IMPORTS[str(element.tag)]
            location = element.get(attribute)
            mapped = self._resolve(url, location, element.get("namespace"))
            if mapped is not None and mapped != location:
                element.set(attribute, mapped)
                changed = True
        if not changed:
            return content
        return etree.tostring(root, xml_declaration=True, encoding="utf-8")

    def _resolve(self, url: str, location: str | None, namespace: str | None) -> str | None:
        """The location an import should load from, after the allowlist; raise if refused."""
        for key in (location, namespace):
            if key is not None:
                local = self._locations.get(key) or self._locations.get(_toggle_slash(key))
                if local is not None:
                    return local
        if not location:
            implied = _IMPLIED.get(namespace or "")
            if implied is not None:
                raise _refusal(url, implied, namespace)
            return None  # zeep skips a namespace-only import
        if is_url(url):
            target = urljoin(url, location)
            if is_url(target) and _origin(target) == self._remote_origin:
                return location
            raise _refusal(url, target, namespace)
        if is_url(location) or urlparse(location).scheme or os.path.isabs(location):
            raise _refusal(url, location, namespace)
        base = url[7:] if url.startswith("file://") else url
        self._allowed.add(os.path.realpath(os.path.join(os.path.dirname(base), location)))
        return location


def fetch_document(
    url: str, timeout: tuple[float, float], session: requests.Session | None = None
) -> bytes:
    """GET one document: 200 only, no redirects, at most MAX_DOCUMENT_BYTES. Blocks."""
    try:
        with (session or requests).get(
            url, timeout=timeout, stream=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                raise WsdlLoadError(f"fetching {url} answered HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise WsdlLoadError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as exc:
        raise WsdlLoadError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc


def _toggle_slash(key: str) -> str:
    return key[:-1] if key.endswith("/") else key + "/"


def _refusal(url: str, target: str, namespace: str | None) -> WsdlLoadError:
    also = f" (or by its namespace {namespace!r})" if namespace and namespace != target else ""
    return WsdlLoadError(
        f"{url} imports {target}, which is never fetched at run time: save a copy and list it "
        f"under options.schema_locations, e.g. {{{target!r}: <local file>}}{also}"
    )


def load_client(
    location: str,
    *,
    schema_locations: Mapping[str, str],
    strict: bool,
    timeout: tuple[float, float],
) -> zeep.Client:
    """A zeep client for the WSDL at ``location`` (an absolute path or a URL). Blocks.

    Its ``transport`` (a :class:`LocalOnlyTransport`) says in ``read`` which local files it read.
    """
    settings = zeep.Settings(
        strict=strict,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=False,  # the transport is the gate while loading; see the module doc
        xml_huge_tree=False,
    )
    transport = LocalOnlyTransport(location, schema_locations=schema_locations, timeout=timeout)
    try:
        client = zeep.Client(location, transport=transport, settings=settings)
    except WsdlLoadError:
        raise
    except Exception as exc:
        raise WsdlLoadError(f"{location} does not load: {type(exc).__name__}: {exc}") from exc
    finally:
        transport.session.close()
    settings.forbid_external = True
    return client
