# stepclip device configuration: the one place for pins and settings.
# The host reads it too: the device view of a trace defaults to the sensor
# settings here, and the wiring test checks the pins against hardware/.

# --- Sensor (LIS3DH) ---  see README "Choosing the sensor settings"
RATE_HZ = 25  # output data rate
RANGE_G = 4  # full scale: +-2, 4, 8 or 16 g
# 8 = low-power, 10 = normal, 12 = high-resolution mode. 10-bit: 8-bit (low-power
# mode) would save 2 uA (6 -> 4 uA at 25 Hz, about 0.2 % of the device's current,
# hardware/power.md) but counts the weakest synthetic gaits worse (steps of 0.05 g
# are under two of its 32 mg digits) and makes wear time need 128 mg of movement
# instead of 32 mg: README "Choosing the sensor settings".
RESOLUTION_BITS = 10
FIFO_WATERMARK = 25  # samples per wake-up: one second at 25 Hz (the FIFO holds 32)
# Deep sleep while the wearer is still (README "The firmware", "Deep sleep while
# still"; hardware/power.md): after this many seconds without movement and without
# a walk in progress, the Pico stops waking every second and sleeps until the
# LIS3DH's motion interrupt (or the next hour); 0: never. 30 s: the step counter's
# state (its 1 s baseline, its 5 s of periodicity history) has settled on stillness
# by then, so a walk that starts in deep sleep is counted as if the device had
# stayed awake (tests/test_deepsleep.py).
DEEP_SLEEP_AFTER_S = 30
# Movement that wakes it: any axis, high-pass filtered at 0.5 Hz, above this (mg).
# One step of the LIS3DH's INT1_THS at +-4 g (32 mg): walking moves the hip by
# hundreds of mg, the sensor's noise stays under 10 mg.
MOTION_MG = 32
LIS3DH_ADDRESS = 0x18  # SA0/SDO low; 0x19 when SA0 is tied high
# The board ties SDO/SA0 low (address 0x18): the Adafruit 2809 of hardware/bom.csv
# pulls SDO down with 10 kOhm and hardware/wiring.yml also wires SDO to GND. The
# chip's own pull-up on SA0 (20-30 kOhm, LIS3DH datasheet table 3) then only leaks,
# 3.3 V / 20-30 kOhm = 0.11-0.16 mA, about a tenth of the whole device's current
# (hardware/power.md; ../shared/reference/power.md rows 39-41), so the driver
# disconnects it (CTRL_REG0 = 0x90). At 0x19 the pull-up is kept whatever this says:
# there SA0 may be held high by that pull-up alone.
LIS3DH_SDO_TIED_LOW = True

# --- Pico board pins (GP numbers) ---
I2C_ID = 0
I2C_SDA = 4  # GP4, physical pin 6
I2C_SCL = 5  # GP5, physical pin 7
I2C_FREQ = 400_000
INT1_PIN = 6  # GP6, physical pin 9: LIS3DH INT1 (FIFO watermark), active high
VSYS_ADC_PIN = 29  # GP29 / ADC3 reads VSYS / 3 on the Pico board

# --- Counting and storage ---
BRISK_SPM = 100  # a minute with at least this many steps is a brisk minute
CHECKPOINT_S = 300  # today's record is saved at most this often (and at each rollover)
DAYS_KEPT = 400  # day records kept in flash; the oldest are dropped first
DATA_DIR = "/data"  # where the records live on the device's filesystem
