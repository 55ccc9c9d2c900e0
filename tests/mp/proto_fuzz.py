# Protocol fuzz, in-process under the MicroPython unix port (tests/test_protocol.py):
#
#   micropython proto_fuzz.py FIRMWARE_DIR SAMPLES FLASH START_S LINES OUT BATCH
#
# (START_S "-": the clock starts unset.) Builds the emulated board and the App, then loops like App.run(): wait for
# the FIFO watermark, count the samples, and between wakes feed the next BATCH
# fuzz lines byte by byte to the protocol. LINES holds one fuzz line per line;
# its first byte says how the line is ended for the device: "n" = \n, "r" = \r,
# "b" = \r\n. Everything the device writes goes to OUT, with markers:
#   #L <i>       before fuzz line i is fed (its replies follow)
#   #W           before a wake (stream lines S/END follow, if any)
#   #TOTAL <n>   at the end: the steps in all records (app.records(None))
#   #REC <line>  at the end: each record as the store writes it
# Prints "DONE <lines fed> <wakes>" when finished.
import sys

sys.path.insert(0, sys.argv[1])
import app as app_module
import board_emulated
import config

samples, flash, start_s, lines_path, out_path = sys.argv[2:7]
batch = int(sys.argv[7])

clock = ["--start", start_s] if start_s != "-" else []
board = board_emulated.Board(argv=["proto_fuzz", "--samples", samples, "--flash", flash, "--run-to-end", "--still-ms", "5000"] + clock)
app = app_module.App(board)
out = open(out_path, "wb")


def collect(data):
    out.write(data)


app.proto.write = collect  # protocol replies
board.write = collect  # stream lines (App._stream writes to the board directly)
feed = app.proto.feed
ENDS = {ord("n"): (10,), ord("r"): (13,), ord("b"): (13, 10)}

lines = open(lines_path, "rb")
fed = 0
wakes = 0


def feed_batch(limit):
    global fed
    k = 0
    while limit < 0 or k < limit:
        line = lines.readline()
        if not line:
            return False
        out.write(b"#L %d\n" % fed)
        ends = ENDS[line[0]]
        for i in range(1, len(line) - 1):  # without the marker and the file's \n
            feed(line[i])
        for b in ends:
            feed(b)
        fed += 1
        k += 1
    return True


app.sensor.start_fifo(config.FIFO_WATERMARK)
more = True
while not board.finished():
    out.write(b"#W\n")
    board.wait(app_module._WAKE_MS)
    app.account(app.read_sensor())
    wakes += 1
    if more:
        more = feed_batch(batch)
if more:
    feed_batch(-1)  # whatever is left, after the samples are played out
app.account(app.read_sensor())
app.save()

total = 0
for rec in app.records(None):
    total += rec.steps
    out.write(b"#REC " + rec.to_line().encode() + b"\n")
out.write(b"#TOTAL %d\n" % total)
out.close()
print("DONE", fed, wakes)
