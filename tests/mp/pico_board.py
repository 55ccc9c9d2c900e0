# Under MicroPython: the Pico board layer (board_pico.py) with a stand-in
# `machine` module (the unix port has no I2C, Pin, ADC or RTC), driving the real
# app for a while: the LIS3DH model on "I2C", samples of a walk arriving during
# lightsleep. Catches what only runs on a Pico: typos, wrong calls, clock maths.
#   micropython pico_board.py FIRMWARE_DIR SAMPLES
import sys

sys.path.insert(0, sys.argv[1])
import os
from array import array

import config
from lis3dh_model import LIS3DHModel
from store_flash import RamFlash

MODEL = LIS3DHModel(config.LIS3DH_ADDRESS)
SAMPLES = open(sys.argv[2], "rb")
CHUNK = array("h", bytes(2 * 3 * config.FIFO_WATERMARK))
SLEEPS = []


class Pin:
    IN = 0
    IRQ_RISING = 1

    def __init__(self, pin, mode=None):
        self.pin = pin

    def value(self):
        if self.pin == config.INT1_PIN:
            return 1 if MODEL.int1 else 0
        return 0  # VBUS: on battery

    def irq(self, handler, trigger):
        self.handler = handler


class ADC:
    def __init__(self, pin):
        assert pin == config.VSYS_ADC_PIN

    def read_u16(self):
        return 26500  # about 4.0 V on VSYS through the 3:1 divider


class RTC:
    now = (2021, 1, 1, 4, 0, 0, 0, 0)  # the Pico after power-up

    def datetime(self, t=None):
        if t is None:
            return RTC.now
        RTC.now = t


class FakeMachine:
    Pin = Pin
    ADC = ADC
    RTC = RTC

    @staticmethod
    def I2C(bus, sda=None, scl=None, freq=None):
        assert bus == config.I2C_ID and sda.pin == config.I2C_SDA and scl.pin == config.I2C_SCL
        return MODEL

    @staticmethod
    def lightsleep(ms):
        # the sensor measures a watermark's worth of samples while the Pico sleeps
        SLEEPS.append(ms)
        n = SAMPLES.readinto(CHUNK)
        for i in range(0, (n or 0) // 2, 3):
            MODEL.push(CHUNK[i], CHUNK[i + 1], CHUNK[i + 2])

    @staticmethod
    def unique_id():
        return b"\xe6\x61\x41\x04\x03\x2f\x5a\x2c"


sys.modules["machine"] = FakeMachine
dev = RamFlash()
os.VfsLfs2.mkfs(dev)
os.mount(os.VfsLfs2(dev), config.DATA_DIR)

import app
import board_pico

board = board_pico.Board()
assert board.clock_s() == -1  # 2021: unset
device = app.App(board)
device.sensor.start_fifo(config.FIFO_WATERMARK)
wakes = 0
while wakes < int(sys.argv[3]):
    board.wait(1000)
    device.account(device.read_sensor())
    wakes += 1
unset_steps = device.rec.steps
# a deep sleep through board_pico.Board.sleep: lightsleep with a timeout, ended early
# (here the stand-in lightsleep returns at once, as after an INT1 edge)
assert board.can_sleep_deep()  # on battery
device.sensor.start_motion(config.MOTION_MG)
device._deep_sleep()
deep = board.sleep(60_000)
board.set_clock(852000000)  # 2026-12-31 (seconds since 2000)
assert board.clock_s() == 852000000, board.clock_s()
assert RTC.now[:3] == (2026, 12, 31) and RTC.now[3] == 3, RTC.now  # a Thursday
device.set_time(852000000)
print("ID", board.unique_id(), board.battery_mv())
print("STEPS", unset_steps, "SLEEPS", len(SLEEPS), "KIND", device.rec.kind, "DEEP", deep)
