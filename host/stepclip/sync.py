"""stepclip sync: device → SQLite, in one transaction.

1. Find the stepclip (--port, or each Pico running MicroPython in turn) and read
   its ID (protocol 2; older firmware is told to run `stepclip deploy`).
2. STOP a stream left running; TIME: set its clock to the computer's local time.
3. DAYS <seq>: what is fetched is decided by what was stored before, never by a
   date: the records closed after the last close number stored from this device
   (every record when its epoch is new to the host), and always the open record
   and any record the device could not write to its flash yet.
4. Store everything in one transaction (nothing is written until everything has
   been read: a cable pulled mid-way leaves the database as it was):
   - each record per date and boot is merged by the rule that a boot's count
     never goes down (store.Database.put_day), and a day is the sum of its boots;
   - a dated record more than FUTURE_DAYS after the computer's date is kept but
     marked misdated and not counted: the device's clock was wrong (ahead);
   - so is one dated more than EARLY_DAYS before the date its boot began (the
     device's clock was behind). That is judged again at every sync, for every
     boot whose start is known: a start learnt from a computer whose clock was
     wrong is corrected by the next sync, and its records counted again;
   - the boot's start (now in UTC minus the device's uptime) places the steps
     counted with the clock unset. If it disagrees with the start stored for the
     same boot, the boot is a different one with the same key (a flash written
     back from an old copy): its records are refused and reported, unless the
     device's own clock proves it is the same boot (then the computer's clock
     changed since, and the new start is kept);
   - the cursor moves to the largest close number received.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from .device import Device, open_stepclip

FUTURE_DAYS = 2  # time zones are at most 26 h apart: a date further ahead is a wrong clock
EARLY_DAYS = 1  # a record dated more than a day before its boot began is a wrong (behind) clock
BOOT_START_TOLERANCE = timedelta(minutes=10)  # plus 1% of the time since the boot started


@dataclass
class SyncResult:
    device_id: str
    port: str
    synced_at: datetime  # local time (naive, as the device's clock and the database keep it)
    clock: str  # the device's clock before the sync: "set", "unset" or "stale"
    days_new: list = field(default_factory=list)
    days_changed: list = field(default_factory=list)
    days_unchanged: int = 0
    uptime_records: int = 0
    misdated: list = field(default_factory=list)  # dates after today: records kept but not counted
    misdated_early: list = field(default_factory=list)  # dates before their boot began: kept, not counted
    refused: list = field(default_factory=list)  # one message per boot not merged
    storage: dict = field(default_factory=dict)  # the device's flash: state, unsaved, dropped

    @property
    def clock_was_set(self):
        return self.clock == "set"


def sync(db, port=None, now=None, on_step=None, timeout=2.0, tz=None):
    """Sync one device into db; returns a SyncResult.

    port: the serial port (None: each Pico in turn). now(): the current time (a
    datetime; naive means local; default the computer's clock). tz: the time
    zone of the device's clock (default the computer's). on_step(name) is
    called before each step (tests: "open", "identify", "stop", "time", "days",
    "store"). Raises the device module's errors (one line) and DatabaseError."""
    step = on_step or (lambda name: None)
    clock = now or (lambda: datetime.now(timezone.utc))
    step("open")
    if port:
        dev = Device(port, timeout=timeout)
        step("identify")
    else:
        dev = open_stepclip(None, timeout=timeout)
    with dev:
        info = dev.info or dev.identify()
        instant = _aware(clock())  # durations on aware times; local time (tz) only for the clock and dates
        step("stop")
        dev.ask("STOP")  # end a stream left running (e.g. an interrupted record)
        step("time")
        dev.set_time(_aware(clock()).astimezone(tz).replace(tzinfo=None))
        device_id = info["id"]
        epoch, boot, seq = int(info["epoch"]), int(info["boot"]), int(info["seq"])
        cursor = db.cursor(device_id)
        since = cursor[1] if cursor and cursor[0] == epoch and cursor[1] <= seq else None
        step("days")
        records = dev.records(since)
    synced_at = instant.astimezone(tz).replace(tzinfo=None)
    result = SyncResult(device_id, dev.port, synced_at, info.get("clock", "unset"))
    result.storage = {k: info.get(k) for k in ("storage", "unsaved", "dropped")}
    started = instant - timedelta(seconds=int(info["uptime_s"]))
    last_day = synced_at.date() + timedelta(days=FUTURE_DAYS)
    step("store")
    with db.transaction():
        seqs = [rec["seq"] for _, rec in records]
        db.put_device(device_id, info, synced_at, cursor=(epoch, max(seqs + [since or 0])))
        conflict = _boot_conflict(db, device_id, epoch, boot, started, info, instant, tz)
        if conflict:
            result.refused.append(conflict)
        else:
            db.put_boot(device_id, boot, started, epoch)
        for kind, rec in records:
            if conflict and (rec["epoch"], rec["boot"]) == (epoch, boot):
                continue
            if kind == "UPTIME":
                if db.put_uptime(device_id, rec, synced_at):
                    result.uptime_records += 1
                continue
            misdated = date.fromisoformat(rec["date"]) > last_day
            if misdated:
                result.misdated.append(rec["date"])
            change = db.put_day(device_id, rec, synced_at, misdated)
            if change == "new":
                result.days_new.append(rec["date"])
            elif change == "changed":
                result.days_changed.append(rec["date"])
            else:
                result.days_unchanged += 1
        # boots' starts are known better now: judge again which records were dated before their boot began
        result.misdated_early = db.judge_dates_before_boot(device_id, instant, synced_at, tz, EARLY_DAYS)
    return result


def _aware(when, tz=None):
    """when as an aware datetime; a naive one is local time in tz (default the computer's zone)."""
    if when.tzinfo is not None:
        return when
    return when.replace(tzinfo=tz) if tz is not None else when.astimezone()


def _boot_conflict(db, device_id, epoch, boot, started, info, now, tz):
    """None if the boot's start agrees with the one stored (or none is); else why not."""
    stored = db.boot_start(device_id, epoch, boot)
    if stored is None:
        return None
    allowed = BOOT_START_TOLERANCE + abs(now - stored) / 100
    if abs(started - stored) <= allowed:
        return None
    if info.get("clock") == "set":
        # the device's clock, set at an earlier sync, ran on with its uptime: the same boot
        own = _aware(datetime.fromisoformat(info["time"]), tz) - timedelta(seconds=int(info["uptime_s"]))
        if abs(own - stored) <= allowed:
            return None  # the computer's clock changed since: keep the new start
    fmt = "%Y-%m-%d %H:%M"
    return (
        f"boot {boot} (epoch {epoch}) started at {started.astimezone(tz):{fmt}} by its uptime, but at "
        f"{stored.astimezone(tz):{fmt}} by an earlier sync: a flash written back from an old copy? "
        f"Its records were not merged"
    )
