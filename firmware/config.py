# stepclip device configuration: the one place for pins and settings.
# The host reads it too: the device view of a trace defaults to the sensor
# settings here, and the wiring test checks the pins against hardware/.

# --- Sensor (LIS3DH) ---  see README "Choosing the sensor settings"
RATE_HZ = 25  # output data rate
RANGE_G = 4  # full scale: +-2, 4, 8 or 16 g
RESOLUTION_BITS = 10  # 8 = low-power, 10 = normal, 12 = high-resolution mode
FIFO_WATERMARK = 25  # samples per wake-up: one second at 25 Hz (the FIFO holds 32)
LIS3DH_ADDRESS = 0x18  # SA0/SDO low; 0x19 when SA0 is tied high

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
