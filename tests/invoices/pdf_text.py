"""Just enough of a PDF reader to check what fpdf2 wrote: embedded font names, each font's
ToUnicode map, and the page text decoded through those maps (no PDF library is installed)."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"\n(\d+) 0 obj\n(.*?)\nendobj", re.DOTALL)
_STREAM = re.compile(rb"stream\n(.*)\nendstream", re.DOTALL)
_FONT = re.compile(rb"/BaseFont /(\w{6})\+([\w-]+).*?/ToUnicode (\d+) 0 R", re.DOTALL)
_CMAP_ENTRY = re.compile(rb"<([0-9A-F]{4})> <([0-9A-F]*)>")
_TEXT_OPERATION = re.compile(rb"/F(\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", re.DOTALL)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(number): body for number, body in _OBJECT.findall(pdf)}


def _stream(body: bytes) -> bytes:
    data = _STREAM.search(body)
    assert data is not None, "not a stream object"
    return zlib.decompress(data[1]) if b"/FlateDecode" in body else data[1]


def fonts(pdf: bytes) -> dict[str, dict[int, str]]:
    """Embedded font name (subset tag dropped) → glyph id → the text that glyph stands for."""
    objects = _objects(pdf)
    found = {}
    for body in objects.values():
        if (font := _FONT.search(body)) and b"/Type0" in body:
            cmap = _stream(objects[int(font[3])])
            found[font[2].decode()] = {
                int(glyph, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
                for glyph, text in _CMAP_ENTRY.findall(cmap)
            }
    return found


def _unescape(literal: bytes) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        code = match[1]
        if code.isdigit():
            return bytes([int(code, 8)])
        return _ESCAPES.get(code, b"" if code == b"\n" else code)

    return _ESCAPE.sub(replace, literal)


def page_text(pdf: bytes) -> str:
    """Every string shown, in content order, with spaces dropped (fpdf2 positions words apart)."""
    objects = _objects(pdf)
    font_names = {}  # the pages' resource name (/F1) → embedded font name
    for number, reference in re.findall(rb"/F(\d+) (\d+) 0 R", pdf):
        font = _FONT.search(objects[int(reference)])
        assert font is not None, f"/F{number.decode()} is not a Type0 font with a ToUnicode map"
        font_names[int(number)] = font[2].decode()
    maps = fonts(pdf)
    text: list[str] = []
    current: dict[int, str] = {}
    for body in objects.values():
        if b"/FlateDecode" not in body or b"/Length1" in body:
            continue
        for font_number, literal in _TEXT_OPERATION.findall(_stream(body)):
            if font_number:
                current = maps[font_names[int(font_number)]]
                continue
            glyphs = _unescape(literal)
            text.extend(current.get(int.from_bytes(glyphs[i:i + 2]), "") for i in range(0, len(glyphs), 2))
    return "".join(text).replace(" ", "")
