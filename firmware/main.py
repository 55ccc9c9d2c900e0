# stepclip firmware entry point: the board layer for where we run, then the app.
import sys

if sys.platform == "rp2":
    import board_pico as board_module
else:  # the MicroPython unix port: the emulated board
    import board_emulated as board_module

import app

board = board_module.Board()
while True:
    device = app.App(board)
    try:
        device.run()
        break
    except KeyboardInterrupt as e:
        # Ctrl-C (the app saved first): on a Pico, MicroPython's REPL takes over; the
        # emulated board serves one itself, and its soft reset starts the app again
        if not board.repl(e):
            raise
board.report(device)
