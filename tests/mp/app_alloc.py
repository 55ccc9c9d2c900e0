# Under MicroPython: run the app on the emulated board and prove that its
# sampling loop (FIFO read + step counter, i.e. App.read_sensor) allocates nothing.
#   micropython app_alloc.py FIRMWARE_DIR SAMPLES FLASH
import sys

sys.path.insert(0, sys.argv[1])
import gc
import micropython

import app
import board_emulated
import config

board = board_emulated.Board(["main.py", "--samples", sys.argv[2], "--flash", sys.argv[3], "--start", "850000000", "--run-to-end"])
device = app.App(board)
device.sensor.start_fifo(config.FIFO_WATERMARK)
wakes = samples = 0
worst = 0
while not board.finished():
    board.wait(1000)
    gc.collect()
    before = gc.mem_alloc()
    micropython.heap_lock()
    try:
        steps = device.read_sensor()
    finally:
        micropython.heap_unlock()
    worst = max(worst, gc.mem_alloc() - before)
    device.account(steps)
    wakes += 1
print("WAKES", wakes, "STEPS", device.rec.steps, "WORST_BYTES", worst)
