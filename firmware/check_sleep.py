# A check a maker runs once on a built stepclip (the firmware deployed): does the
# deep sleep of board_pico.py work on this Pico and MicroPython build? It cannot
# run in the emulator: lightsleep, its timer and a GPIO wake are the RP2040's own
# (../shared/reference/power.md rows 23, 25, 28: lightsleep returning early on some
# builds, no pin wake without a timeout).
#
#   mpremote run firmware/check_sleep.py     # then unplug USB when it says so
#   (plug USB back in)  mpremote cat :check_sleep.txt
#
# On battery (a USB host wakes lightsleep early, power.md row 10): the Pico's LED
# blinks once, the clip must lie still; 60 s later (time it with a stopwatch: the
# timer's accuracy) it blinks once more, then stays lit 2 s: pick the clip up
# within a minute. Three blinks: it woke on the motion with the FIFO full (1.28 s
# before the wake-up). Its findings are in check_sleep.txt; every line should end
# in "ok". Please report a line that does not (hardware/README.md).
import time
from array import array

import machine

import config
from board_pico import Board
from lis3dh import LIS3DH

led = machine.Pin("LED", machine.Pin.OUT)
board = Board()
sensor = LIS3DH(board.i2c, config.LIS3DH_ADDRESS, config.LIS3DH_SDO_TIED_LOW)
sensor.configure(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
sensor.start_fifo(config.FIFO_WATERMARK)
sensor.start_motion(config.MOTION_MG)
buf = array("h", bytes(2 * 3 * 32))
lines = []


def blink(n, ms=200):
    for _ in range(n):
        led.on()
        time.sleep_ms(ms)
        led.off()
        time.sleep_ms(ms)


def deep(ms):
    # as the app does: INT1 to the motion interrupt, sleep, INT1 back, read the FIFO
    sensor.read_fifo(buf)
    sensor.moved()
    sensor.int1_motion()
    t = time.ticks_ms()
    why = board.sleep(ms)
    slept = time.ticks_diff(time.ticks_ms(), t)
    sensor.int1_fifo()
    return why, slept, sensor.read_fifo(buf)


if board.usb_host():
    print("unplug USB now (the check runs on battery); then plug it back in and: mpremote cat :check_sleep.txt")
    while board.usb_host():
        time.sleep_ms(100)
    time.sleep_ms(2000)

blink(1)
why, slept, n = deep(60_000)
blink(1)
lines.append("still 60 s: woke by %s after %d ms of ticks_ms (want timer, 60000): %s"
             % (why, slept, "ok" if why == "timer" and 60_000 <= slept < 60_100 else "CHECK"))
led.on()
time.sleep_ms(2000)
led.off()
why, slept, n = deep(60_000)
blink(3 if why == "motion" and n == 32 else 1)
lines.append("picked up: woke by %s after %d ms, %d samples in the FIFO (want motion, 32): %s"
             % (why, slept, n, "ok" if why == "motion" and n == 32 else "CHECK"))
lines.append("compare the first sleep with your stopwatch: 60 s (a minute a day is 0.04 s in 60 s)")
with open("check_sleep.txt", "w") as f:
    f.write("\n".join(lines) + "\n")
