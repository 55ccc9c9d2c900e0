"""stepclip sync: device → SQLite, in one transaction.

Identify the device, set its clock, fetch the days that are new or may have
changed (from the last synced date on), and store them together with the steps
counted while its clock was unset (placed on dates by the boot's start time).
Nothing is written until everything has been read: a cable pulled mid-way
leaves the database exactly as it was.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .device import Device


@dataclass
class SyncResult:
    device_id: str
    port: str
    synced_at: datetime
    clock_was_set: bool
    days_new: list = field(default_factory=list)
    days_changed: list = field(default_factory=list)
    days_unchanged: int = 0
    uptime_records: int = 0


def sync(db, port=None, now=None, on_step=None, timeout=2.0):
    """Sync one device into db. on_step(name) is called before each step (tests)."""
    step = on_step or (lambda name: None)
    step("open")
    with Device(port, timeout=timeout) as dev:
        step("identify")
        info = dev.identify()
        synced_at = now() if now else datetime.now()
        step("stop")
        dev.ask("STOP")  # end a stream left running (e.g. an interrupted record)
        device_id = info["id"]
        boot, uptime_s = int(info["boot"]), int(info["uptime_s"])
        clock_was_set = info.get("clock") == "set"
        step("time")
        dev.set_time(now() if now else datetime.now())
        since = db.last_date(device_id)
        step("days")
        records = dev.records(since)
    result = SyncResult(device_id, dev.port, synced_at, clock_was_set)
    step("store")
    with db.transaction():
        db.put_device(device_id, info, synced_at)
        db.put_boot(device_id, boot, synced_at - timedelta(seconds=uptime_s))
        for kind, rec in records:
            if kind == "DAY":
                change = db.put_day(device_id, rec, synced_at)
                if change == "new":
                    result.days_new.append(rec["date"])
                elif change == "changed":
                    result.days_changed.append(rec["date"])
                else:
                    result.days_unchanged += 1
            elif db.put_uptime(device_id, rec, synced_at):
                result.uptime_records += 1
    return result
