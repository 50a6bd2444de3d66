"""STOMP 1.2 frames: parsing what clients send and rendering what the server sends.

A WebSocket message carries whole frames (stompjs never splits them): `COMMAND`, header lines,
an empty line, the body, a NUL. Bare end-of-lines between frames are heart-beats. Header values
are escaped (`\\c`, `\\n`, `\\r`, `\\\\`) in every frame except CONNECT and CONNECTED. A
`content-length` counts UTF-8 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...exceptions import ChatError

CLIENT_COMMANDS = frozenset(
    {
        "CONNECT",
        "STOMP",
        "SEND",
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "ACK",
        "NACK",
        "BEGIN",
        "COMMIT",
        "ABORT",
        "DISCONNECT",
    }
)
MAX_HEADERS = 64
MAX_HEADER_BYTES = 8 * 1024

_UNESCAPE = {b"\\c": b":", b"\\n": b"\n", b"\\r": b"\r", b"\\\\": b"\\"}
_ESCAPE = str.maketrans({"\\": "\\\\", ":": "\\c", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = frozenset("\\:\n\r")


class FrameError(ChatError):
    """A frame that is not STOMP 1.2."""

    error = "MalformedFrameError"
    default_message = "The frame is not a valid STOMP 1.2 frame."


class FrameTooLarge(ChatError):
    status = 413
    error = "FrameTooLargeError"
    default_message = "The frame is larger than the server accepts."


@dataclass(slots=True)
class Frame:
    command: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def parse(data: bytes, *, max_bytes: int) -> list[Frame]:
    """All frames in one WebSocket message (heart-beats yield none). Raises FrameError."""
    if len(data) > max_bytes:
        raise FrameTooLarge(f"Frames may be at most {max_bytes} bytes.")
    frames: list[Frame] = []
    position = 0
    end = len(data)
    while position < end:
        # Skip heart-beats (EOLs) between frames.
        while position < end and data[position] in (0x0A, 0x0D):
            position += 1
        if position >= end:
            break
        frame, position = _parse_one(data, position)
        frames.append(frame)
    return frames


def _parse_one(data: bytes, start: int) -> tuple[Frame, int]:
    head_end = data.find(b"\n\n", start)
    crlf_end = data.find(b"\r\n\r\n", start)
    if crlf_end != -1 and (head_end == -1 or crlf_end < head_end):
        head, body_start = data[start:crlf_end], crlf_end + 4
    elif head_end != -1:
        head, body_start = data[start:head_end], head_end + 2
    else:
        raise FrameError("The frame has no blank line after its headers.")
    if len(head) > MAX_HEADER_BYTES:
        raise FrameTooLarge(f"Frame headers may be at most {MAX_HEADER_BYTES} bytes.")
    lines = [line[:-1] if line.endswith(b"\r") else line for line in head.split(b"\n")]
    try:
        command = lines[0].decode("ascii")
    except UnicodeDecodeError:
        raise FrameError("The command is not ASCII.") from None
    if command not in CLIENT_COMMANDS:
        raise FrameError(f"Unknown STOMP command {command[:32]!r}.")
    if len(lines) - 1 > MAX_HEADERS:
        raise FrameError(f"A frame may carry at most {MAX_HEADERS} headers.")
    escaped = command not in ("CONNECT", "STOMP")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name:
            raise FrameError("A header line must be `name:value`.")
        key = _decode_header(name, escaped)
        if key not in headers:  # STOMP 1.2: the first occurrence wins
            headers[key] = _decode_header(value, escaped)
    length_text = headers.get("content-length")
    if length_text is not None:
        if not length_text.isascii() or not length_text.isdigit() or len(length_text) > 9:
            raise FrameError("`content-length` must be a non-negative integer.")
        body_end = body_start + int(length_text)
        if body_end >= len(data) or data[body_end] != 0:
            raise FrameError("The body does not end with NUL where `content-length` says.")
    else:
        body_end = data.find(b"\x00", body_start)
        if body_end == -1:
            raise FrameError("The frame does not end with NUL.")
    return Frame(command, headers, data[body_start:body_end]), body_end + 1


def _decode_header(raw: bytes, escaped: bool) -> str:
    if escaped and b"\\" in raw:
        parts: list[bytes] = []
        index = 0
        while index < len(raw):
            byte = raw[index : index + 1]
            if byte == b"\\":
                pair = raw[index : index + 2]
                if pair not in _UNESCAPE:
                    raise FrameError("A header holds an undefined escape sequence.")
                parts.append(_UNESCAPE[pair])
                index += 2
            else:
                parts.append(byte)
                index += 1
        raw = b"".join(parts)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("Headers must be UTF-8.") from None


def escape(value: str) -> str:
    if _NEEDS_ESCAPE.isdisjoint(value):
        return value
    return value.translate(_ESCAPE)


def render(command: str, headers: list[tuple[str, str]], body: str = "") -> str:
    """One server frame as text. No content-length: bodies are JSON, which never holds a NUL."""
    if command == "CONNECTED":
        lines = [f"{name}:{value}" for name, value in headers]
    else:
        lines = [f"{name}:{escape(value)}" for name, value in headers]
    return command + "\n" + "".join(line + "\n" for line in lines) + "\n" + body + "\x00"
