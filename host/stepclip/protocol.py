"""The host side of the device's serial protocol (firmware/protocol.py, PROTOCOL.md).

Every line the device sends ends with " *" and the CRC-32 of the text before it;
a reply ends with "OK ..." or "ERR <code> <message>".
"""
import binascii
from datetime import date


class ProtocolError(Exception):
    """A reply that is garbled, fails its checksum, or is not what was asked."""


class DeviceError(Exception):
    """The device answered ERR <code> <message>."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


MAX_MV = 9999  # the largest battery reading a record may hold (firmware/store.py MAX_MV)


def check(raw):
    """The text of one reply line, its checksum verified (raw: bytes, with or without newline)."""
    line = raw.rstrip(b"\r\n")
    text, sep, crc = line.rpartition(b" *")
    if not sep or len(crc) != 8:
        raise ProtocolError(f"reply without checksum: {_show(line)}")
    try:
        expected = int(crc, 16)
    except ValueError:
        raise ProtocolError(f"reply with a malformed checksum: {_show(line)}") from None
    if binascii.crc32(text) & 0xFFFFFFFF != expected:
        raise ProtocolError(f"reply fails its checksum: {_show(line)}")
    try:
        return text.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(f"reply is not ASCII: {_show(line)}") from None


def fields(text):
    """{'key': 'value'} of the key=value words of a reply line."""
    out = {}
    for word in text.split()[1:]:
        key, sep, value = word.partition("=")
        if sep:
            out[key] = value
    return out


def record(text):
    """A DAY or UPTIME line (protocol 2) as (kind, dict with ints); ProtocolError if malformed.

    DAY: {"date", "epoch", "boot", "seq", "steps", "brisk", "overruns", "hours"[24], "wear",
    "battery", "usb"}; UPTIME: the same with "uptime_day" instead of "date". "wear" is
    the minutes worn in each of the 24 hours (0-60 each) when the line has a wear=
    field, else None (firmware before 0.3.0, or a record it counted). "battery" is
    the lowest battery reading (VSYS, mV; 0: none) of each hour and "usb" 1 for an
    hour with USB power, both None when the line has no battery= and usb= fields
    (no reading taken, or older firmware)."""
    kind = text.split(" ", 1)[0]
    f = fields(text)
    try:
        rec = {
            "epoch": int(f["epoch"]),
            "boot": int(f["boot"]),
            "seq": int(f["seq"]),
            "steps": int(f["steps"]),
            "brisk": int(f["brisk"]),
            "overruns": int(f["overruns"]),
            "hours": [int(v) for v in f["hours"].split(",")],
        }
        if kind == "DAY":
            date.fromisoformat(f["date"])
            rec = {"date": f["date"], **rec}
        elif kind == "UPTIME":
            rec = {"uptime_day": int(f["day"]), **rec}
        else:
            raise KeyError(kind)
        rec["wear"] = [int(v) for v in f["wear"].split(",")] if "wear" in f else None
        if ("battery" in f) != ("usb" in f):
            raise KeyError("usb")
        rec["battery"] = [int(v) for v in f["battery"].split(",")] if "battery" in f else None
        rec["usb"] = [int(v) for v in f["usb"].split(",")] if "usb" in f else None
    except (KeyError, ValueError):
        raise ProtocolError(f"malformed record: {text[:80]}") from None
    if len(rec["hours"]) != 24:
        raise ProtocolError(f"record without 24 hours: {text[:80]}")
    if rec["wear"] is not None and (len(rec["wear"]) != 24 or not all(0 <= m <= 60 for m in rec["wear"])):
        raise ProtocolError(f"record whose wear is not 24 hours of 0-60 minutes: {text[:80]}")
    if rec["battery"] is not None and (
        len(rec["battery"]) != 24 or len(rec["usb"]) != 24
        or not all(0 <= mv <= MAX_MV for mv in rec["battery"]) or not all(u in (0, 1) for u in rec["usb"])
    ):
        raise ProtocolError(f"record whose battery is not 24 hours of readings and USB flags: {text[:80]}")
    return kind, rec


def _show(line):
    return repr(line[:60])[1:] if isinstance(line, bytes) else line[:60]
