# stepclip firmware entry point: the board layer for where we run, then the app.
import sys

if sys.platform == "rp2":
    import board_pico as board_module
else:  # the MicroPython unix port: the emulated board
    import board_emulated as board_module

import app

board = board_module.Board()
device = app.App(board)
device.run()
board.report(device)
