# The behaviour checks of store_checks.py under the MicroPython unix port, on
# littlefs (os.VfsLfs2, progsize 256) over an emulated Pico flash:
#
#   micropython -X heapsize=8M store_basic.py FIRMWARE_DIR
#
# Prints "RESULT {json}" with the checks that passed.
import sys
import json

sys.path.insert(0, sys.argv[1])
import store
import store_flash as sf
import store_checks


def main():
    passed = {}
    for name in store_checks.CHECKS:
        dev = sf.RamFlash(256)
        sf.format(dev)
        sf.mount(dev)
        store.Store(sf.MOUNT + "/t")
        res = getattr(store_checks, name)(store, sf.MOUNT + "/t")
        sf.unmount()
        passed[name] = res if res is not None else True
    print("RESULT " + json.dumps(passed))


main()
