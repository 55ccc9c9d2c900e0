# The Pico board: real pins, the I2C bus, the RTC, lightsleep, the battery on the ADC.
# Pins come from config.py (see hardware/ for the wiring).
import select
import sys
import time

import machine

import config
import dates

_CLOCK_SET_AFTER = 25 * 365 * 86400  # the RTC restarts at 2021-01-01: earlier means unset


def _nothing(pin):
    pass


class Board:
    name = "pico"
    data_dir = config.DATA_DIR
    # the app's longest deep sleep: an hour (it wakes at each full hour anyway);
    # lightsleep takes at most 2**32 us, 71.6 min (../shared/reference/power.md row 23)
    max_sleep_ms = 3_600_000

    def __init__(self):
        self.i2c = machine.I2C(
            config.I2C_ID,
            sda=machine.Pin(config.I2C_SDA),
            scl=machine.Pin(config.I2C_SCL),
            freq=config.I2C_FREQ,
        )
        self.int1 = machine.Pin(config.INT1_PIN, machine.Pin.IN)
        # a rising INT1 (FIFO watermark; the motion interrupt in a deep sleep) ends a
        # lightsleep early, but only a lightsleep with a timeout and only with a
        # handler set (power.md row 25: rp2 machine_pin.c, micropython #7035)
        self.int1.irq(_nothing, machine.Pin.IRQ_RISING)
        pico_w = "Pico W" in sys.implementation._machine
        self.vbus = machine.Pin("WL_GPIO2" if pico_w else 24, machine.Pin.IN)
        if not pico_w:
            # plugging USB in ends a deep sleep too (VBUS on GP24; a Pico W's is on the radio chip)
            self.vbus.irq(_nothing, machine.Pin.IRQ_RISING)
        self.adc = machine.ADC(config.VSYS_ADC_PIN)
        self.rtc = machine.RTC()
        self.stdin = sys.stdin.buffer
        self.stdout = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        try:
            import os

            os.mkdir(config.DATA_DIR)
        except OSError:
            pass

    ticks_ms = staticmethod(time.ticks_ms)
    ticks_diff = staticmethod(time.ticks_diff)

    def clock_s(self):
        y, mo, d, _, h, mi, s, _ = self.rtc.datetime()
        t = dates.day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
        return t if t >= _CLOCK_SET_AFTER else -1

    def set_clock(self, wall_s):
        y, mo, d = dates.civil(wall_s // 86400)
        r = wall_s % 86400
        weekday = (wall_s // 86400 + 5) % 7  # 2000-01-01 was a Saturday; Monday = 0
        self.rtc.datetime((y, mo, d, weekday, r // 3600, r % 3600 // 60, r % 60, 0))

    def usb_host(self):
        return self.vbus.value() == 1

    def wait(self, ms):
        if self.int1.value():
            return
        if self.usb_host():
            # USB powered and perhaps talking: stay awake (lightsleep stops USB)
            self.poller.poll(ms)
        else:
            machine.lightsleep(ms)

    def can_sleep_deep(self):
        # on battery only: with a USB host the loop stays awake to answer it
        return not self.usb_host()

    def sleep(self, ms):
        """Deep sleep while the wearer is still: machine.lightsleep(ms), ended early
        by a rising INT1 (the app routes the LIS3DH's motion interrupt to it first)
        or VBUS. Returns "motion" when it ended early, "timer" when ms passed.

        Why lightsleep and not DORMANT: in lightsleep the RP2040's TIMER keeps
        running on the 12 MHz crystal (power.md row 23: SLEEP_EN1 = TIMER, clk_ref
        on XOSC), so ticks_ms, the app's clock, stays as accurate as awake. The RTC
        does not (row 26: time.time() frozen in lightsleep from v1.24 until PR
        #19694), and the app never reads it after boot. In DORMANT no clock runs on
        a Pico (row 1: no external clock), MicroPython's Pin.irq does not wake it
        (row 25), and the register workaround would leave the clock wrong by the
        whole sleep: not safe for the day's records.
        Check on a Pico: `mpremote run firmware/check_sleep.py` (hardware/README.md)."""
        if self.int1.value():  # already high: the edge was before the sleep
            return "motion"
        t = time.ticks_ms()
        machine.lightsleep(ms)
        # early: an edge woke it (a timeout never ends early; power.md row 28 says
        # check this on the build: firmware/check_sleep.py)
        return "motion" if time.ticks_diff(time.ticks_ms(), t) < ms - 1 else "timer"

    def finished(self):
        return False

    def read_byte(self):
        if not self.poller.poll(0):
            return -1
        b = self.stdin.read(1)
        return b[0] if b else -1

    def write(self, data):
        if self.usb_host():  # with no host the console drops output anyway
            self.stdout.write(data)

    def unique_id(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def battery_mv(self):
        # VSYS through the board's 3:1 divider, 3.3 V reference, 16-bit reading;
        # the mean of 8 conversions (the RP2040's ADC is noisy: about 9 effective bits)
        adc = self.adc
        total = 0
        for _ in range(8):
            total += adc.read_u16()
        return (total >> 3) * 3 * 3300 // 65535  # within 2**30: a small int

    def report(self, app):
        pass

    def repl(self, exc):
        return False  # after Ctrl-C main.py ends and MicroPython's own REPL takes over
