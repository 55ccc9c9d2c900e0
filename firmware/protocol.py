# stepclip serial protocol, version 2: line-based text over the USB console.
# Every reply line ends with " *" and the CRC-32 of the text before it, in 8 hex
# digits. A command's reply ends with one "OK ..." or "ERR <code> <message>" line.
# See PROTOCOL.md for the commands and an example session.
from binascii import crc32

if "." in __name__:  # host: imported as stepclip_firmware.protocol
    from . import dates
else:
    import dates

PROTOCOL_VERSION = 2
MAX_LINE = 96  # longer input lines are discarded and answered with ERR too-long

COMMANDS = "ID,TIME,DAYS,STREAM,STOP,ERASE,HELP"


def checked(text):
    """A reply line: text, its CRC-32, newline (bytes)."""
    data = text.encode()
    return data + b" *%08x\n" % (crc32(data) & 0xFFFFFFFF)


class Protocol:
    def __init__(self, app, write):
        self.app = app
        self.write = write  # write(bytes) to the serial port
        self.buf = bytearray(MAX_LINE)
        self.n = 0
        self.too_long = False

    def feed(self, b):
        """Take one input byte (an int)."""
        if b == 10 or b == 13:  # end of line (\n, \r, or both)
            if self.too_long:
                self.too_long = False
                self.n = 0
                self.error("too-long", "line longer than %d bytes" % MAX_LINE)
            elif self.n:
                line = bytes(self.buf[: self.n])
                self.n = 0
                self.handle(line)
        elif self.n < MAX_LINE:
            self.buf[self.n] = b
            self.n += 1
        else:
            self.too_long = True

    def say(self, text):
        self.write(checked(text))

    def ok(self, text=""):
        self.say("OK " + text if text else "OK")

    def error(self, code, message):
        self.say("ERR %s %s" % (code, message))

    def handle(self, line):
        for b in line:
            if b < 32 or b > 126:
                self.error("garbled", "not printable ASCII")
                return
        words = line.decode().split()
        if not words:
            return
        cmd = words[0].upper()
        args = words[1:]
        handler = getattr(self, "cmd_" + cmd, None) if cmd.isalpha() else None
        if handler is None:
            self.error("unknown-command", cmd[:16] + " (try HELP)")
            return
        try:
            handler(args)
        except ValueError as e:
            self.error("bad-argument", str(e) or cmd)

    # --- commands -------------------------------------------------------------

    def cmd_HELP(self, args):
        self.ok("proto=%d commands=%s" % (PROTOCOL_VERSION, COMMANDS))

    def cmd_ID(self, args):
        self.ok(" ".join("%s=%s" % kv for kv in self.app.identify()))

    def cmd_TIME(self, args):
        if len(args) != 1:
            raise ValueError("usage: TIME YYYY-MM-DDTHH:MM:SS")
        self.app.set_time(dates.parse_time(args[0]))
        self.ok("time=%s" % args[0])

    def cmd_DAYS(self, args):
        if len(args) > 1:
            raise ValueError("usage: DAYS [SEQ]")
        since = dates.number(args[0]) if args else None  # the last close number the host has
        n = 0
        for rec in self.app.records(since):
            self.say(record_line(rec))
            n += 1
        self.ok("records=%d" % n)

    def cmd_STREAM(self, args):
        if len(args) > 1:
            raise ValueError("usage: STREAM [SECONDS]")
        seconds = dates.number(args[0]) if args else 0  # 0 = until STOP
        rate, range_g, bits = self.app.start_stream(seconds)
        self.ok("stream rate=%s range=%d bits=%d seconds=%d" % (rate, range_g, bits, seconds))

    def cmd_STOP(self, args):
        self.ok("stopped samples=%d" % self.app.stop_stream())

    def cmd_ERASE(self, args):
        if not args:
            self.ok("confirm with: ERASE %s" % self.app.erase_token())
        elif self.app.erase(args[0]):
            self.ok("erased")
        else:
            self.error("bad-token", "ask with ERASE first, then send ERASE <token>")


def record_line(rec):
    hours = ",".join(str(v) for v in rec.hourly)
    if rec.kind == "D":
        head = "DAY date=%s epoch=%d boot=%d" % (dates.iso_date(rec.day), rec.epoch, rec.boot)
    else:  # counted while the clock was unset: the host places it by boot and uptime
        head = "UPTIME epoch=%d boot=%d day=%d" % (rec.epoch, rec.boot, rec.day)
    line = "%s seq=%d steps=%d brisk=%d overruns=%d hours=%s" % (head, rec.seq, rec.steps, rec.brisk, rec.overruns, hours)
    if rec.has_wear:  # a record of older firmware has none: not "never worn"
        line += " wear=" + ",".join(str(v) for v in rec.wear)
    if rec.has_power():
        line += " battery=%s usb=%s" % (",".join(str(v) for v in rec.battery), ",".join(str(v) for v in rec.usb))
    return line
