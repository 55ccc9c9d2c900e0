# Flash wear of the store, under the MicroPython unix port on littlefs over an
# emulated Pico flash: 1.4 MB = 352 blocks of 4096 bytes, progsize 256, as the
# rp2 port mounts it.
#
#   micropython -X heapsize=8M store_wear.py FIRMWARE_DIR [DAYS]
#
# Starts from 365 closed days, then simulates DAYS days of use: a checkpoint
# every config.CHECKPOINT_S (288 a day) and one rollover (close + the next
# day's first checkpoint) per day. Counts block writes (writeblocks calls),
# erases (ioctl 6) and erases per block. Prints "RESULT {json}".
import sys
import json
import os

sys.path.insert(0, sys.argv[1])
import config
import store
import store_flash as sf
from store import Record

DAYS = int(sys.argv[2]) if len(sys.argv) > 2 else 60
NBLOCKS = 352  # the Pico's 1.4 MB littlefs
HISTORY = 365
CYCLES = 100000  # rated erase cycles of a flash sector
PER_DAY = 86400 // config.CHECKPOINT_S


def main():
    dev = sf.RamFlash(NBLOCKS)
    sf.format(dev)
    sf.mount(dev)
    st = store.Store(sf.MOUNT + "/data")
    st.load()
    st.new_boot()
    for d in range(HISTORY):
        st.close(sf.day_record(Record, 8000 + d))
    dev.reset_counts()
    dev.count_erases_per_block()
    per_day = []
    day = 8000 + HISTORY
    r = Record("D", st.epoch, st.boot, day)
    for n in range(DAYS):
        w0, p0, e0, b0 = dev.writes, dev.progs, dev.erases, dev.prog_bytes
        for i in range(PER_DAY):
            # steps grow through the day; the hour's slot fills
            r.steps += 37 + (i % 11)
            r.hourly[i * 24 // PER_DAY] += 37 + (i % 11)
            st.checkpoint(r)
        st.close(r)  # rollover; the next day's first checkpoint is in its 288
        day += 1
        r = Record("D", st.epoch, st.boot, day)
        per_day.append(
            (dev.writes - w0, dev.progs - p0, dev.erases - e0, dev.prog_bytes - b0)
        )
    assert st.count() == min(HISTORY + DAYS, config.DAYS_KEPT)
    sv = os.statvfs(sf.MOUNT)
    free_blocks = sv[3]
    used_blocks = NBLOCKS - free_blocks
    sf.unmount()

    first = per_day[0]
    writes = sum(x[0] for x in per_day) / DAYS
    progs = sum(x[1] for x in per_day) / DAYS
    erases = sum(x[2] for x in per_day) / DAYS
    prog_bytes = sum(x[3] for x in per_day) / DAYS
    counts = dev.erase_count
    hottest = max(counts)
    touched = sum(1 for c in counts if c)
    # littlefs levels wear dynamically: new blocks come from the free space,
    # and metadata pairs move after block_cycles erases, so the erases spread
    # over the blocks not holding static data. Life = cycles * free blocks /
    # erases per day.
    life_years = CYCLES * free_blocks / erases / 365.25
    # the same if the firmware and other files took half of the flash
    life_years_half = CYCLES * (NBLOCKS // 2) / erases / 365.25
    # conservative: every block erased as often as the most erased one was
    life_years_hottest = CYCLES / (hottest / DAYS) / 365.25
    print(
        "RESULT "
        + json.dumps(
            {
                "history_days": HISTORY,
                "days_simulated": DAYS,
                "checkpoints_per_day": PER_DAY,
                "first_day": {
                    "writes": first[0],
                    "progs": first[1],
                    "erases": first[2],
                    "prog_bytes": first[3],
                },
                "writes_per_day": writes,
                "progs_per_day": progs,
                "erases_per_day": erases,
                "prog_bytes_per_day": prog_bytes,
                "blocks": NBLOCKS,
                "used_blocks": used_blocks,
                "free_blocks": free_blocks,
                "blocks_erased": touched,
                "hottest_block_erases": hottest,
                "life_years": life_years,
                "life_years_half_flash_free": life_years_half,
                "life_years_hottest_block": life_years_hottest,
            }
        )
    )


main()
