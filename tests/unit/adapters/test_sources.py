"""SourceFiles: the digests of the files an adapter started from, compared with the disk now."""

from __future__ import annotations

from pathlib import Path

from adapters.sources import SourceFiles


def snapshot(*paths: Path) -> SourceFiles:
    return SourceFiles({str(path): SourceFiles.digest(path.read_bytes()) for path in paths})


def test_files_rewritten_with_the_same_bytes_are_unchanged(tmp_path: Path) -> None:
    """Content decides, not the modification time: the same bytes written again are no change."""
    wsdl = tmp_path / "a.wsdl"
    wsdl.write_bytes(b"<definitions/>")
    sources = snapshot(wsdl)
    wsdl.write_bytes(b"<definitions/>")
    assert sources.changed() == []


def test_edited_and_deleted_files_are_reported_changed(tmp_path: Path) -> None:
    """A file whose bytes differ and a file that is gone are both listed, the untouched one not."""
    edited, deleted, kept = (tmp_path / name for name in ("edited.wsdl", "gone.xsd", "kept.xsd"))
    for path in (edited, deleted, kept):
        path.write_bytes(b"<original/>")
    sources = snapshot(edited, deleted, kept)
    edited.write_bytes(b"<edited/>")
    deleted.unlink()
    assert sources.changed() == sorted([str(edited), str(deleted)])


def test_union_keeps_the_files_of_both(tmp_path: Path) -> None:
    """Two services' files combine into one set (what one adapter with several WSDLs holds)."""
    first, second = tmp_path / "one.wsdl", tmp_path / "two.wsdl"
    first.write_bytes(b"1")
    second.write_bytes(b"2")
    assert set((snapshot(first) | snapshot(second)).digests) == {str(first), str(second)}


def test_a_document_fetched_by_url_is_changed_only_when_its_bytes_differ() -> None:
    """A URL is fetched again: other bytes are a change, the same bytes or no answer are not."""
    served = {"http://erp/a?wsdl": b"<a/>", "http://erp/b?wsdl": b"<b/>"}

    def fetch(url: str) -> bytes:
        if url not in served:
            raise OSError("connection refused")
        return served[url]

    sources = SourceFiles(
        remote={
            "http://erp/a?wsdl": SourceFiles.digest(b"<a/>"),
            "http://erp/b?wsdl": SourceFiles.digest(b"<b/>"),
            "http://erp/gone?wsdl": SourceFiles.digest(b"<gone/>"),
        },
        fetch=fetch,
    )
    assert sources.changed() == []
    served["http://erp/b?wsdl"] = b"<b version='2'/>"
    assert sources.changed() == ["http://erp/b?wsdl"]


def test_union_keeps_the_urls_and_the_fetcher() -> None:
    """A service read by URL joined with one read from disk still re-fetches its URL."""
    remote = SourceFiles(remote={"http://erp/a?wsdl": "0" * 64}, fetch=lambda url: b"<a/>")
    both = SourceFiles({"/etc/x.wsdl": "1" * 64}) | remote
    assert set(both.remote) == {"http://erp/a?wsdl"} and both.fetch is remote.fetch
    assert "http://erp/a?wsdl" in both.changed()
