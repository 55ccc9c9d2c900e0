# MicroPython's REPL on the emulated board, after Ctrl-C stopped the app.
#
# As on a Pico, Ctrl-C leaves main.py for the REPL; board_emulated.Board.repl
# serves this one on the serial port (stdin/stdout), as far as mpremote uses it:
# the banner and the friendly REPL (lines echoed and run); Ctrl-A, the raw REPL
# (code up to Ctrl-D is answered "OK", its output, Ctrl-D, its error, Ctrl-D,
# ">"; raw-paste mode is declined with "R\x00", a port's answer when it lacks it);
# Ctrl-B back to the friendly REPL; Ctrl-D at an empty friendly prompt, a soft
# reset ("MPY: soft reboot"), after which main.py starts the app again. Code runs
# in the flash (the current directory is the data directory), with machine.RTC
# standing for the board's clock.
import sys

import dates


class RTC:
    """machine.RTC on the emulated board: the board's clock (local time, as on a Pico)."""

    def __init__(self, board):
        self.board = board

    def datetime(self, t=None):
        # the board's clock stood still while the REPL ran: bring it to the real now
        # first, or a clock set here would read ahead by the time spent at the REPL
        self.board._lose_until_now()
        if t is None:
            s = self.board.clock_s()
            if s < 0:  # unset: a Pico's RTC starts at 2021-01-01 00:00:00, a Friday
                return (2021, 1, 1, 4, 0, 0, 0, 0)
            y, mo, d = dates.civil(s // 86400)
            r = s % 86400
            return (y, mo, d, (s // 86400 + 5) % 7, r // 3600, r % 3600 // 60, r % 60, 0)
        y, mo, d, _, h, mi, sec = t[:7]
        self.board.set_clock(dates.day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec)


class Machine:
    """The part of the machine module that code sent to the emulated REPL may use."""

    def __init__(self, board):
        self.RTC = lambda: RTC(board)


class Repl:
    """The REPL on a board's serial port (its stdin, poller and write); serve() runs it."""

    def __init__(self, board):
        self.board = board
        self.globals = {"__name__": "__main__"}

    def _out(self, text):
        self.board.write(text.encode() if isinstance(text, str) else text)

    def _banner(self):
        version = sys.version.split("; ", 1)[-1]
        self._out(version + "; emulated stepclip (MicroPython unix port)\r\nType \"help()\" for more information.\r\n>>> ")

    def _byte(self):
        # the next input byte, waiting for it; -1 at the end of input. Ctrl-C raises KeyboardInterrupt.
        board = self.board
        while not board.eof:
            if board.poller.poll(1000):
                b = board.stdin.read(1)
                if b:
                    return b[0]
                board.eof = True
        return -1

    def serve(self):
        self._banner()
        raw = False
        line = bytearray()
        while True:
            try:
                b = self._byte()
                if b < 0:
                    return False
                if b == 1:  # Ctrl-A: raw REPL
                    raw = True
                    line = bytearray()
                    self._out("\r\nraw REPL; CTRL-B to exit\r\n>")
                elif b == 2:  # Ctrl-B: friendly REPL
                    raw = False
                    line = bytearray()
                    self._out("\r\n")
                    self._banner()
                elif b == 4:  # Ctrl-D
                    if raw and line:
                        self._run_raw(bytes(line))
                        line = bytearray()
                    elif not line:
                        self._out("OK\r\nMPY: soft reboot\r\n" if raw else "\r\nMPY: soft reboot\r\n")
                        if not raw:
                            return True
                        # after a soft reset in the raw REPL, main.py is skipped
                        self.globals = {"__name__": "__main__"}
                        self._out("raw REPL; CTRL-B to exit\r\n>")
                elif raw:
                    if b == 5 and not line:  # Ctrl-E A Ctrl-A: raw-paste mode, declined
                        self._byte()
                        self._byte()
                        self._out(b"R\x00")
                    else:
                        line.append(b)
                elif b in (13, 10):
                    self._out("\r\n")
                    if line:
                        self._run_line(bytes(line).decode())
                    line = bytearray()
                    self._out(">>> ")
                elif b in (8, 127):  # backspace
                    if line:
                        line.pop()
                        self._out("\b \b")
                elif 32 <= b < 127:
                    line.append(b)
                    self._out(bytes((b,)))
            except KeyboardInterrupt:  # Ctrl-C at a prompt clears the line
                line = bytearray()
                self._out("\r\n" if raw else "\r\nKeyboardInterrupt\r\n>>> ")

    def _run_raw(self, code):
        self._out("OK")
        try:
            exec(code, self.globals)
            self._out(b"\x04")
        except BaseException as e:  # its traceback is the error output, as on a Pico
            self._out(b"\x04")
            sys.print_exception(e, sys.stdout)
        self._out(b"\x04>")

    def _run_line(self, text):
        try:
            try:
                code = compile(text, "<stdin>", "eval")
            except SyntaxError:
                exec(text, self.globals)
                return
            value = eval(code, self.globals)
            if value is not None:
                self._out(repr(value) + "\r\n")
        except BaseException as e:
            sys.print_exception(e, sys.stdout)
