# Emulated flash for the store tests under the MicroPython unix port: block
# devices for os.VfsLfs2 (the extended interface: readblocks/writeblocks with an
# offset, erase by ioctl 6), mounted the way the Pico mounts its flash
# (rp2 _boot.py: os.VfsLfs2(bdev, progsize=256), 4096-byte blocks).
import os

BLOCK = 4096  # the Pico's flash sector (erase unit)
PROGSIZE = 256  # the Pico's flash page (rp2 mounts littlefs with progsize=256)
MOUNT = "/flash"


EIO = -5  # littlefs gets this error code from a write after the power cut


class RamFlash:
    # A bytearray flash that counts writes (every writeblocks and every erase)
    # and can lose power at the k-th write: that write does not happen (or,
    # torn=True, only its first half does) and no later write ever does. The
    # failed writes return EIO to littlefs, which raises OSError(EIO) to the
    # store; self.dead tells a cut from other errors. (Error codes, not Python
    # exceptions: littlefs also writes from file finalisers, where the heap is
    # locked.)
    def __init__(self, nblocks=64, image=None, cut_at=0, torn=False):
        self.n = nblocks
        if image is None:
            image = b"\xff" * (nblocks * BLOCK)
        self.buf = bytearray(image)
        self.mv = memoryview(self.buf)
        self.cut_at = cut_at
        self.torn = torn
        self.dead = False
        self.writes = 0  # progs + erases (the count the power cut uses)
        self.progs = 0
        self.erases = 0
        self.prog_bytes = 0
        self.erase_count = None  # per-block erase counts, when enabled
        self.hook = None  # called on every read/write (memory sampling)

    def count_erases_per_block(self):
        self.erase_count = [0] * self.n

    def reset_counts(self):
        self.writes = self.progs = self.erases = self.prog_bytes = 0

    def _write_allowed(self):
        # True: do the whole write; False: this write is cut (maybe torn) or
        # the power is already off
        if self.dead:
            return False
        self.writes += 1
        if self.writes == self.cut_at:
            self.dead = True
            return False
        return True

    def readblocks(self, block, buf, off=0):
        if self.dead:
            return  # nothing after the cut matters (and nothing allocates)
        if self.hook:
            self.hook()
        a = block * BLOCK + off
        buf[:] = self.mv[a : a + len(buf)]

    def writeblocks(self, block, buf, off=None):
        if self.hook:
            self.hook()
        if off is None:  # simple interface: erase, then program
            self.ioctl(6, block)
            off = 0
        a = block * BLOCK + off
        n = len(buf)
        if self.dead:
            return EIO
        if not self._write_allowed():
            if self.torn:
                h = n // 2
                self.mv[a : a + h] = buf[:h]
            return EIO
        self.mv[a : a + n] = buf
        self.progs += 1
        self.prog_bytes += n

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.n
        if op == 5:  # block size
            return BLOCK
        if op == 6:  # erase
            a = arg * BLOCK
            if self.dead:
                return EIO
            if not self._write_allowed():
                if self.torn:
                    for i in range(a, a + BLOCK // 2):
                        self.buf[i] = 0xFF
                return EIO
            for i in range(0, BLOCK, 256):
                self.mv[a + i : a + i + 256] = FF256
            self.erases += 1
            if self.erase_count is not None:
                self.erase_count[arg] += 1
            return 0
        return 0


FF256 = b"\xff" * 256


class FileFlash(RamFlash):
    # The same flash backed by a host file, so that a large flash image does not
    # live in the (small, -X heapsize=64K) MicroPython heap.
    def __init__(self, path, nblocks):
        self.n = nblocks
        self.cut_at = 0
        self.torn = False
        self.dead = False
        self.writes = self.progs = self.erases = self.prog_bytes = 0
        self.erase_count = None
        self.hook = None
        f = open(path, "wb")
        for _ in range(nblocks * BLOCK // 256):
            f.write(FF256)
        f.close()
        self.f = open(path, "r+b")

    def readblocks(self, block, buf, off=0):
        if self.hook:
            self.hook()
        self.f.seek(block * BLOCK + off)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, off=None):
        if self.hook:
            self.hook()
        if off is None:
            self.ioctl(6, block)
            off = 0
        if not self._write_allowed():
            return EIO
        self.f.seek(block * BLOCK + off)
        self.f.write(buf)
        self.progs += 1
        self.prog_bytes += len(buf)

    def ioctl(self, op, arg):
        if op == 6:
            if not self._write_allowed():
                return EIO
            self.f.seek(arg * BLOCK)
            for _ in range(BLOCK // 256):
                self.f.write(FF256)
            self.erases += 1
            return 0
        if op == 4:
            return self.n
        if op == 5:
            return BLOCK
        return 0


def format(dev):
    os.VfsLfs2.mkfs(dev, progsize=PROGSIZE)


def mount(dev):
    # mount (never format) at MOUNT; raises if the image does not mount
    unmount()
    os.mount(os.VfsLfs2(dev, progsize=PROGSIZE), MOUNT)


def unmount():
    try:
        os.umount(MOUNT)
    except OSError:
        pass


def day_record(Record, day, steps=None, seed=0, epoch=51, boot=1, old=False):
    # a realistic closed day: steps spread over the waking hours, worn from 7 to
    # 22, a battery reading each hour on battery, USB power in the evening (a
    # charge); old=True: a record of format 2 firmware (no wear, no readings)
    r = Record("D", epoch, boot, day)
    total = 0
    for h in range(7, 23):
        v = ((day * 7919 + h * 104729 + seed) % 1500) + (600 if h in (8, 12, 17) else 0)
        r.hourly[h] = v
        total += v
    r.steps = total if steps is None else steps
    r.brisk = total // 400
    r.overruns = 1 if day % 3 == 0 else 0
    if not old:
        r.has_wear = True
        for h in range(24):
            r.wear[h] = 60 if 7 <= h < 22 else (23 if h == 22 else 0)
            if h in (20, 21):
                r.usb[h] = 1
            else:
                r.battery[h] = 3950 - 9 * h - day % 100
    return r
