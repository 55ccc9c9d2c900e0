# Under MicroPython: the app on the emulated board with a flash that fails.
#
#   micropython app_storage.py FIRMWARE_DIR SAMPLES FLASH START_S FAIL_FROM FAIL_UNTIL ASK_EVERY
#
# From wake FAIL_FROM to wake FAIL_UNTIL (wakes are one second apart) every block
# write and erase of the emulated flash fails with EIO, as a worn or damaged
# flash does (FAIL_FROM -1: from before the app starts). Every ASK_EVERY wakes
# the host asks ID; at the end DAYS. Prints each reply line as "<wake> <line>"
# and "DONE <wakes>".
import sys

sys.path.insert(0, sys.argv[1])
import app as app_module
import board_emulated
import config

samples, flash, start_s = sys.argv[2:5]
fail_from, fail_until, ask_every = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
EIO = -5  # littlefs gets this error code; the store sees OSError(EIO)
failing = [False]

Device = board_emulated.FileBlockDevice
_writeblocks = Device.writeblocks
_ioctl = Device.ioctl


def writeblocks(self, n, buf, off=None):
    if failing[0]:
        return EIO
    return _writeblocks(self, n, buf, off)


def ioctl(self, op, arg):
    if op == 6 and failing[0]:  # erase
        return EIO
    return _ioctl(self, op, arg)


Device.writeblocks = writeblocks
Device.ioctl = ioctl

board = board_emulated.Board(["app_storage", "--samples", samples, "--flash", flash, "--start", start_s, "--run-to-end"])
failing[0] = fail_from < 0
app = app_module.App(board)
wake = 0


def say(data):
    for line in data.decode().splitlines():
        print(wake, line)


app.proto.write = say
app.sensor.start_fifo(config.FIFO_WATERMARK)
while not board.finished():
    board.wait(app_module._WAKE_MS)
    wake += 1
    if wake == fail_from:
        failing[0] = True
    if wake == fail_until:
        failing[0] = False
    app.account(app.read_sensor())
    if wake % ask_every == 0:
        app.proto.handle(b"ID")
app.save()
app.proto.handle(b"ID")
app.proto.handle(b"DAYS")
print("DONE", wake)
