# Under MicroPython: fill a new flash image with N closed day records before day FIRST
# (days since 2000-01-01), with the firmware's own store. Used by tests and benchmarks.
#   micropython fill_days.py FIRMWARE_DIR FLASH FIRST_DAY N
import sys

sys.path.insert(0, sys.argv[1])
import os

import board_emulated
from store import Record, Store

dev = board_emulated.FileBlockDevice(sys.argv[2])
os.VfsLfs2.mkfs(dev)
os.mount(os.VfsLfs2(dev), "/data")
store = Store("/data")
store.load()
epoch, boot = store.new_boot()
first, n = int(sys.argv[3]), int(sys.argv[4])
for day in range(first - n, first):
    rec = Record("D", epoch, boot, day)
    rec.steps = 1000 + day % 500
    rec.hourly[9] = rec.steps
    store.close(rec)
print("STORED", store.count())
