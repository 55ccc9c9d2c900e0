# The Pico board: real pins, the I2C bus, the RTC, lightsleep, the battery on the ADC.
# Pins come from config.py (see hardware/ for the wiring).
import select
import sys
import time

import machine

import config
import dates

_CLOCK_SET_AFTER = 25 * 365 * 86400  # the RTC restarts at 2021-01-01: earlier means unset


class Board:
    name = "pico"
    data_dir = config.DATA_DIR

    def __init__(self):
        self.i2c = machine.I2C(
            config.I2C_ID,
            sda=machine.Pin(config.I2C_SDA),
            scl=machine.Pin(config.I2C_SCL),
            freq=config.I2C_FREQ,
        )
        self.int1 = machine.Pin(config.INT1_PIN, machine.Pin.IN)
        # a rising INT1 (FIFO watermark) ends a lightsleep early; RP2040 needs a timeout
        self.int1.irq(lambda p: None, machine.Pin.IRQ_RISING)
        self.vbus = machine.Pin("WL_GPIO2" if "Pico W" in sys.implementation._machine else 24, machine.Pin.IN)
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
