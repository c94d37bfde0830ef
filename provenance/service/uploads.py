"""Stage service: multipart uploads streamed to one folder, under a size cap, with hostile names made harmless.

The body is read as it arrives and each file part is written straight into
the folder the server chose (never a system temporary file), so an upload
lives only where the desk configured it. A body announced larger than the
cap is refused before a byte of it is read; one that grows past it is
refused as soon as it does, and what was written is removed::

    >>> upload = await read_form(request, folder, max_bytes=200 << 20,
    ...                          files={"file", "article"}, fields={"claim_date", "claim_text"})
    >>> upload.files["file"].path, upload.fields.get("claim_date")
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import BadInputError

#: Longest text field accepted, bytes (a claim's text is a sentence or two; an article comes as a file).
MAX_FIELD_BYTES = 64 << 10
#: Most parts in one form (a clip, an article or a sidecar, and a dozen fields).
MAX_PARTS = 24
#: Longest file name kept, characters (what a file system takes with room to spare).
MAX_NAME_CHARS = 120
#: Longest wait for the next piece of a body, seconds: a stalled client frees its connection after it.
IDLE_TIMEOUT_S = 60.0
#: Longest whole upload, seconds: 200 MiB at 1 Mb/s takes ~28 minutes.
UPLOAD_TIMEOUT_S = 3600.0


class UploadTooLarge(BadInputError):
    """The body is larger than the server's upload cap (HTTP 413)."""


class UploadTimedOut(BadInputError):
    """The client stopped sending the body (HTTP 408)."""


@dataclass(frozen=True)
class UploadedFile:
    """One file part as stored: the name it was sent under (made harmless), where it is, its size."""

    name: str
    path: Path
    size_bytes: int


@dataclass(frozen=True)
class Form:
    """A multipart form as read: its text fields and its stored files, by field name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


def safe_name(name: str, default: str) -> str:
    """A file name as sent, kept readable but unable to name another place.

    The last path component only (``/`` and ``\\`` both split), control and
    bidi characters removed, Unicode normalised (NFC), a leading dot
    dropped, cut at `MAX_NAME_CHARS` keeping the extension; `default` when
    nothing is left. Markup in it stays as text for the renderers to escape.
    """
    text = unicodedata.normalize("NFC", name)
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C").strip().lstrip(".").strip()
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        ext = ext[:12] if dot and stem else ""
        text = text[: MAX_NAME_CHARS - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    if text in ("", ".", ".."):
        return default
    encoded = text.encode("utf-8", "replace")
    if len(encoded) > 240:  # file systems count bytes
        text = encoded[:240].decode("utf-8", "ignore")
    return text


def _disposition(value: bytes) -> tuple[str, str | None]:
    """(field name, file name or None) from a part's Content-Disposition header."""
    from python_multipart.multipart import parse_options_header

    kind, params = parse_options_header(value)
    if kind != b"form-data" or b"name" not in params:
        raise BadInputError("a form part has no field name; send multipart/form-data as a browser or curl -F does")
    name = params[b"name"].decode("utf-8", "replace")
    filename = params.get(b"filename")
    return name, filename.decode("utf-8", "replace") if filename is not None else None


async def _chunks(request: Any) -> AsyncIterator[bytes]:
    """The body's chunks, each within `IDLE_TIMEOUT_S` of the last and all within `UPLOAD_TIMEOUT_S`."""
    import asyncio

    stream = request.stream().__aiter__()
    start = time.monotonic()
    while True:
        left = UPLOAD_TIMEOUT_S - (time.monotonic() - start)
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), min(IDLE_TIMEOUT_S, max(left, 0.001)))
        except StopAsyncIteration:
            return
        except TimeoutError as exc:
            raise UploadTimedOut(
                f"the upload stalled (nothing for {IDLE_TIMEOUT_S:g} s, or over {UPLOAD_TIMEOUT_S:g} s in all); send it again"
            ) from exc
        yield chunk


class _Parts:
    """The multipart parser's callbacks: each file part written to `folder`, text parts kept in memory."""

    def __init__(self, folder: Path, files: set[str], fields: set[str]) -> None:
        self.folder, self.files, self.fields = folder, files, fields
        self.form = Form()
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.current: tuple[str, str | None] | None = None
        self.out: IO[bytes] | None = None
        self.out_path: Path | None = None
        self.size = 0
        self.text = bytearray()
        self.parts = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda d, s, e: setattr(self, "header_field", self.header_field + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "header_value", self.header_value + d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BadInputError(f"the form has more than {MAX_PARTS} parts; send the clip and its fields only")
        self.headers, self.current, self.size, self.text = {}, None, 0, bytearray()

    def header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def headers_finished(self) -> None:
        name, filename = _disposition(self.headers.get(b"content-disposition", b""))
        if name in self.form.fields or name in self.form.files:
            raise BadInputError(f"the form sends {name!r} twice; send each field once")
        if name in self.files:
            if filename is None:
                raise BadInputError(f"the form's {name!r} is not a file; send it as a file (curl -F '{name}=@PATH')")
            stored = safe_name(filename, "upload")
            sub = self.folder / name
            sub.mkdir(mode=0o700, exist_ok=True)
            self.out_path = sub / stored
            fd = os.open(self.out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            self.out = os.fdopen(fd, "wb")
        elif name in self.fields:
            if filename is not None:
                raise BadInputError(f"the form's {name!r} is a file; send it as text (curl -F '{name}=VALUE')")
        else:
            known = ", ".join(sorted(self.files | self.fields))
            raise BadInputError(f"the form has an unknown field {name[:80]!r}; the fields are {known}")
        self.current = (name, filename)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is None:
            return
        self.size += end - start
        if self.out is not None:
            self.out.write(data[start:end])
        else:
            if self.size > MAX_FIELD_BYTES:
                raise BadInputError(f"the field {self.current[0]!r} is longer than {MAX_FIELD_BYTES} bytes; shorten it")
            self.text += data[start:end]

    def part_end(self) -> None:
        if self.current is None:
            return
        name, filename = self.current
        if self.out is not None and self.out_path is not None:
            self.out.close()
            self.out = None
            self.form.files[name] = UploadedFile(self.out_path.name, self.out_path, self.size)
        else:
            try:
                self.form.fields[name] = self.text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadInputError(f"the field {name!r} is not UTF-8 text; send it as UTF-8") from exc
        self.current = None

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


async def read_form(request: Any, folder: Path, *, max_bytes: int, files: set[str], fields: set[str]) -> Form:
    """Read a multipart/form-data body into `folder` (files, each under ``folder/FIELD/NAME``) and memory (fields).

    Args:
        request: the Starlette request.
        folder: an empty private folder the files go into.
        max_bytes: the cap on the whole body.
        files: the field names that are files.
        fields: the field names that are text.

    Returns:
        The form as read.

    Raises:
        UploadTooLarge: the body is (or is announced) larger than `max_bytes`.
        UploadTimedOut: the body stalled.
        BadInputError: not multipart/form-data, malformed, or with unknown, repeated or oversized fields.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > max_bytes:
        raise UploadTooLarge(_too_large(int(announced), max_bytes))
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise BadInputError(
            "the upload is not multipart/form-data; send the clip as a form field named 'file' (curl -F 'file=@CLIP')"
        )
    parts = _Parts(folder, files, fields)
    parser = MultipartParser(params[b"boundary"], parts.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in _chunks(request):
            received += len(chunk)
            if received > max_bytes:
                raise UploadTooLarge(_too_large(received, max_bytes))
            parser.write(chunk)
        parser.finalize()
    except (BadInputError, UploadTooLarge):
        raise
    except Exception as exc:  # noqa: BLE001 - the parser's own errors: a malformed body
        raise BadInputError(
            f"the upload is not a well-formed multipart form ({type(exc).__name__}); send it again"
        ) from exc
    finally:
        parts.close()
    if parts.current is not None or parts.parts == 0:
        raise BadInputError("the upload ended before its form did; send it again")
    return parts.form


def _too_large(size: int, max_bytes: int) -> str:
    return (
        f"the upload is {size / (1 << 20):.1f} MiB or more, over this server's limit of {max_bytes >> 20} MiB "
        "(--max-upload-mb); trim the clip or ask the desk's admin"
    )
