"""Where the catalogue lives in a bus home, and a reloading view of it for long-running participants.

``HOME/ca/catalogue-draft.xml`` is the authority's unsigned working copy (edited by ``govbus registry``);
``HOME/ca/catalogue.xml`` is the signed, published version every participant loads.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import structlog
from cryptography import x509

from bus.faults import Fault, FaultCode
from bus.pki.home import BusHome, write_public
from bus.registry.catalogue import Catalogue
from bus.registry.signed import catalogue_from_xml, catalogue_to_xml, load_catalogue, sign_catalogue
from bus.xml import parse_untrusted

log = structlog.get_logger(__name__)

RELOAD_CHECK_SECONDS = 2.0


def published_path(home: BusHome) -> Path:
    return home.ca_dir / "catalogue.xml"


def draft_path(home: BusHome) -> Path:
    return home.ca_dir / "catalogue-draft.xml"


def load_draft(home: BusHome, *, instance: str | None = None) -> Catalogue:
    """The authority's working copy; a new empty one (for ``instance``) when none exists yet."""
    path = draft_path(home)
    if path.exists():
        return catalogue_from_xml(parse_untrusted(path.read_bytes()))
    published = published_path(home)
    if published.exists():
        return load_published(home)
    if instance is None:
        raise FileNotFoundError(f"no catalogue in {home.ca_dir}: add a service first")
    return Catalogue(instance=instance)


def save_draft(home: BusHome, catalogue: Catalogue) -> Path:
    import lxml.etree as etree

    path = draft_path(home)
    write_public(path, etree.tostring(catalogue_to_xml(catalogue), encoding="UTF-8", xml_declaration=True))
    return path


def publish(home: BusHome) -> tuple[Path, Catalogue]:
    """Sign the draft as the next catalogue version with the CA key and publish it."""
    draft = load_draft(home)
    current = load_published(home).version if published_path(home).exists() else 0
    catalogue = replace(draft, version=max(draft.version, current) + 1)
    data = sign_catalogue(catalogue, home.ca_key.read_bytes(), home.ca_cert.read_bytes())
    write_public(published_path(home), data)
    save_draft(home, catalogue)
    return published_path(home), catalogue


def load_published(home: BusHome) -> Catalogue:
    """The signed catalogue of a home, verified against its CA certificate."""
    path = published_path(home)
    if not path.exists():
        raise Fault(FaultCode.CATALOGUE_INVALID, f"no signed catalogue at {path}: run 'govbus registry sign'")
    return load_catalogue(path.read_bytes(), x509.load_pem_x509_certificate(home.ca_cert.read_bytes()))


class CatalogueView:
    """The current signed catalogue, re-read when its file changes; a bad new version is refused and logged."""

    def __init__(self, home: BusHome) -> None:
        self._home = home
        self._path = published_path(home)
        self._catalogue = load_published(home)
        self._mtime = self._path.stat().st_mtime
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    @property
    def current(self) -> Catalogue:
        if time.monotonic() - self._checked > RELOAD_CHECK_SECONDS:
            self._reload()
        return self._catalogue

    def _reload(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            try:
                mtime = self._path.stat().st_mtime
                if mtime == self._mtime:
                    return
                catalogue = load_published(self._home)
            except (OSError, Fault) as error:
                log.error("catalogue.refused", path=str(self._path), error=str(error))
                return
            if catalogue.version < self._catalogue.version:
                log.error("catalogue.refused", reason="older version", version=catalogue.version)
                return
            self._catalogue, self._mtime = catalogue, mtime
            log.info("catalogue.loaded", version=catalogue.version)
