# stepclip device configuration: the one place for pins and sensor settings.
# The host reads these too (the device view of a trace defaults to them).

RATE_HZ = 25  # LIS3DH output data rate; see README "Choosing the sensor settings"
RANGE_G = 4  # full scale: +-2, 4, 8 or 16 g
RESOLUTION_BITS = 10  # 8 = low-power, 10 = normal, 12 = high-resolution mode
