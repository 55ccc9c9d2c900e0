"""The local SQLite database of day records: versioned schema, one transaction per sync.

Default file: the user data directory (platformdirs), e.g.
~/.local/share/stepclip/stepclip.db; `--db FILE` or STEPCLIP_DB override it.

A day is the sum of its records per boot (day_pieces; the devices send one
record per date and boot, protocol 2): the days table holds those sums. A
boot's record is merged by the rule "a boot's count never goes down": the host
keeps the larger of what it holds and what the device sends, so steps that a
device lost in a power cut after a sync stay. Records of the same boot are
named by (epoch, boot), unique over a device's life (firmware/store.py).
Boot start times are stored in UTC; steps counted with the clock unset are
placed on local dates and hours only when read (daily()).
"""
import os
import sqlite3
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SCHEMA_VERSION = 2

# Each step brings the schema from version i to i + 1 (MIGRATIONS[i]).
MIGRATIONS = [
    """
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        first_sync TEXT NOT NULL,
        last_sync TEXT NOT NULL,
        fw TEXT, proto INTEGER, board TEXT, micropython TEXT
    );
    -- a day as the device counted it (its clock was set)
    CREATE TABLE days (
        device TEXT NOT NULL REFERENCES devices(id),
        date TEXT NOT NULL,
        steps INTEGER NOT NULL, brisk INTEGER NOT NULL, overruns INTEGER NOT NULL,
        hours TEXT NOT NULL,
        synced TEXT NOT NULL,
        PRIMARY KEY (device, date)
    );
    -- counted while the device's clock was unset: by boot and uptime day
    CREATE TABLE uptime (
        device TEXT NOT NULL REFERENCES devices(id),
        boot INTEGER NOT NULL, uptime_day INTEGER NOT NULL,
        steps INTEGER NOT NULL, brisk INTEGER NOT NULL, overruns INTEGER NOT NULL,
        hours TEXT NOT NULL,
        synced TEXT NOT NULL,
        PRIMARY KEY (device, boot, uptime_day)
    );
    -- when a boot started (local time), learnt at a sync during that boot
    CREATE TABLE boots (
        device TEXT NOT NULL REFERENCES devices(id),
        boot INTEGER NOT NULL,
        started TEXT NOT NULL,
        PRIMARY KEY (device, boot)
    );
    -- the walking plan of the person wearing a device
    CREATE TABLE plans (
        device TEXT PRIMARY KEY,
        age INTEGER, target INTEGER, baseline INTEGER, start TEXT
    );
    """,
    # -> 2: records per boot (issue 9). One step: renumber it freely when merging.
    ("""
    -- a day's record of one boot (epoch, boot), days holds their sums. Rows of
    -- schema 1 become the whole-day record of epoch 0, boot 0. misdated: dated
    -- after the computer's date at the sync (the device's clock was wrong), kept, not counted.
    -- (No semicolons in these comments: the statements are split at them.)
    CREATE TABLE day_pieces (
        device TEXT NOT NULL REFERENCES devices(id),
        date TEXT NOT NULL,
        epoch INTEGER NOT NULL, boot INTEGER NOT NULL,
        steps INTEGER NOT NULL, brisk INTEGER NOT NULL, overruns INTEGER NOT NULL,
        hours TEXT NOT NULL,
        misdated INTEGER NOT NULL DEFAULT 0,
        synced TEXT NOT NULL,
        PRIMARY KEY (device, date, epoch, boot)
    );
    INSERT INTO day_pieces (device, date, epoch, boot, steps, brisk, overruns, hours, synced)
        SELECT device, date, 0, 0, steps, brisk, overruns, hours, synced FROM days;
    CREATE TABLE uptime_2 (
        device TEXT NOT NULL REFERENCES devices(id),
        epoch INTEGER NOT NULL, boot INTEGER NOT NULL, uptime_day INTEGER NOT NULL,
        steps INTEGER NOT NULL, brisk INTEGER NOT NULL, overruns INTEGER NOT NULL,
        hours TEXT NOT NULL,
        synced TEXT NOT NULL,
        PRIMARY KEY (device, epoch, boot, uptime_day)
    );
    INSERT INTO uptime_2 SELECT device, 0, boot, uptime_day, steps, brisk, overruns, hours, synced FROM uptime;
    DROP TABLE uptime;
    ALTER TABLE uptime_2 RENAME TO uptime;
    -- started: UTC, ISO 8601 with +00:00 (schema 1 kept naive local times)
    CREATE TABLE boots_2 (
        device TEXT NOT NULL REFERENCES devices(id),
        epoch INTEGER NOT NULL, boot INTEGER NOT NULL,
        started TEXT NOT NULL,
        PRIMARY KEY (device, epoch, boot)
    );
    INSERT INTO boots_2 SELECT device, 0, boot, started FROM boots;
    DROP TABLE boots;
    ALTER TABLE boots_2 RENAME TO boots;
    -- the sync cursor: the device's epoch and the last close number stored
    ALTER TABLE devices ADD COLUMN cursor_epoch INTEGER;
    ALTER TABLE devices ADD COLUMN cursor_seq INTEGER
    """, "_boot_starts_to_utc"),
]


class DatabaseError(Exception):
    """The database cannot be used (locked, corrupt, newer than this stepclip)."""


def default_path():
    env = os.environ.get("STEPCLIP_DB")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("stepclip", appauthor=False)) / "stepclip.db"


class Database:
    def __init__(self, path=None, timeout=2.0):
        self.path = Path(path) if path else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"{self.path}: {_reason(e)}") from None
        except OSError as e:
            raise DatabaseError(f"{self.path}: cannot open: {e.strerror or e}") from None

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _migrate(self):
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path}: written by a newer stepclip (schema {version}, this one knows {SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            for step in range(version, SCHEMA_VERSION):  # (executescript would commit: one by one)
                parts = MIGRATIONS[step]
                for part in parts if isinstance(parts, tuple) else (parts,):
                    if part.startswith("_"):  # a method of this class
                        getattr(self, part)()
                        continue
                    for statement in part.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _boot_starts_to_utc(self):
        # schema 1 stored boot starts in the computer's local time, without a zone
        rows = self.db.execute("SELECT device, epoch, boot, started FROM boots").fetchall()
        for device, epoch, boot, started in rows:
            self.db.execute(
                "UPDATE boots SET started=? WHERE device=? AND epoch=? AND boot=?",
                (_utc(datetime.fromisoformat(started)).isoformat(timespec="seconds"), device, epoch, boot),
            )

    @contextmanager
    def transaction(self):
        """All or nothing: BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"{self.path}: {_reason(e)}") from None
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            self.db.execute("ROLLBACK")
            raise DatabaseError(f"{self.path}: {_reason(e)}") from None

    # --- writes (inside a transaction) ------------------------------------------------------

    def put_device(self, device_id, info, when, cursor=None):
        """Insert or update a device (info: its ID fields); cursor: (epoch, last close number stored)."""
        self.db.execute(
            "INSERT INTO devices (id, first_sync, last_sync, fw, proto, board, micropython) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET last_sync=excluded.last_sync, fw=excluded.fw, proto=excluded.proto, "
            "board=excluded.board, micropython=excluded.micropython",
            (device_id, when.isoformat(), when.isoformat(), info.get("fw"), int(info.get("proto", 0)), info.get("board"), info.get("micropython")),
        )
        if cursor is not None:
            self.db.execute("UPDATE devices SET cursor_epoch=?, cursor_seq=? WHERE id=?", (*cursor, device_id))

    def put_day(self, device_id, rec, when, misdated=False):
        """Merge a dated record of one boot (rec: date, epoch and boot (both 0: a
        whole day), steps, brisk, overruns, hours[24]) and update the day's total.
        The stored record is replaced only by one with at least as many steps; a
        misdated record (after the computer's date) is kept but not counted, and
        stays so. Returns what happened to the day's total: "new", "changed" or None."""
        key = (device_id, rec["date"], rec.get("epoch", 0), rec.get("boot", 0))
        old = self.db.execute(
            "SELECT steps, brisk, overruns, hours, misdated FROM day_pieces WHERE device=? AND date=? AND epoch=? AND boot=?", key
        ).fetchone()
        misdated = int(bool(misdated or (old and old[4])))
        new = _values(rec)
        if old is None or (new[0] >= old[0] and (new, misdated) != (old[:4], old[4])):
            self.db.execute(
                "INSERT OR REPLACE INTO day_pieces (device, date, epoch, boot, steps, brisk, overruns, hours, misdated, synced) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (*key, *new, misdated, when.isoformat()),
            )
        return self._sum_day(device_id, rec["date"], when)

    def _sum_day(self, device_id, day, when):
        # the days row of a date: the sum of its counted records
        rows = self.db.execute(
            "SELECT steps, brisk, overruns, hours FROM day_pieces WHERE device=? AND date=? AND misdated=0", (device_id, day)
        ).fetchall()
        old = self.db.execute("SELECT steps, brisk, overruns, hours FROM days WHERE device=? AND date=?", (device_id, day)).fetchone()
        if not rows:
            if old is not None:
                self.db.execute("DELETE FROM days WHERE device=? AND date=?", (device_id, day))
            return None if old is None else "changed"
        hours = [sum(h) for h in zip(*([int(v) for v in r[3].split(",")] for r in rows))]
        new = (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows), ",".join(map(str, hours)))
        if old == new:
            return None
        self.db.execute(
            "INSERT INTO days (device, date, steps, brisk, overruns, hours, synced) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(device, date) DO UPDATE SET steps=excluded.steps, brisk=excluded.brisk, "
            "overruns=excluded.overruns, hours=excluded.hours, synced=excluded.synced",
            (device_id, day, *new, when.isoformat()),
        )
        return "new" if old is None else "changed"

    def put_uptime(self, device_id, rec, when):
        """Merge a record counted with the clock unset (rec: epoch, boot,
        uptime_day, steps, ...), by the same rule: never fewer steps. "new", "changed" or None."""
        key = (device_id, rec.get("epoch", 0), rec["boot"], rec["uptime_day"])
        old = self.db.execute(
            "SELECT steps, brisk, overruns, hours FROM uptime WHERE device=? AND epoch=? AND boot=? AND uptime_day=?", key
        ).fetchone()
        new = _values(rec)
        if old == new or (old is not None and new[0] < old[0]):
            return None
        self.db.execute(
            "INSERT OR REPLACE INTO uptime (device, epoch, boot, uptime_day, steps, brisk, overruns, hours, synced) VALUES (?,?,?,?,?,?,?,?,?)",
            (*key, *new, when.isoformat()),
        )
        return "new" if old is None else "changed"

    def boot_start(self, device_id, epoch, boot):
        """When a boot started (an aware UTC datetime), or None if no sync learnt it."""
        row = self.db.execute("SELECT started FROM boots WHERE device=? AND epoch=? AND boot=?", (device_id, epoch, boot)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def put_boot(self, device_id, boot, started, epoch=0):
        """Remember when a boot started (a datetime; naive means the computer's
        local time); a later estimate replaces an earlier one (sync decides when)."""
        self.db.execute(
            "INSERT OR REPLACE INTO boots (device, epoch, boot, started) VALUES (?,?,?,?)",
            (device_id, epoch, boot, _utc(started).isoformat(timespec="seconds")),
        )

    def set_plan(self, device_id, **settings):
        row = self.plan(device_id)
        row.update({k: v for k, v in settings.items()})
        self.db.execute(
            "INSERT OR REPLACE INTO plans (device, age, target, baseline, start) VALUES (?,?,?,?,?)",
            (device_id, row["age"], row["target"], row["baseline"], row["start"]),
        )

    # --- reads ---------------------------------------------------------------------------------

    def devices(self):
        """Device ids, most recently synced first."""
        return [r[0] for r in self.db.execute("SELECT id FROM devices ORDER BY last_sync DESC, id")]

    def device(self, device_id):
        row = self.db.execute(
            "SELECT id, first_sync, last_sync, fw, proto, board, micropython FROM devices WHERE id=?", (device_id,)
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("id", "first_sync", "last_sync", "fw", "proto", "board", "micropython"), row))

    def cursor(self, device_id):
        """(epoch, last close number stored) of a device, or None: where its next sync goes on from."""
        row = self.db.execute("SELECT cursor_epoch, cursor_seq FROM devices WHERE id=?", (device_id,)).fetchone()
        return (row[0], row[1]) if row and row[0] is not None else None

    def plan(self, device_id):
        row = self.db.execute("SELECT age, target, baseline, start FROM plans WHERE device=?", (device_id,)).fetchone()
        return dict(zip(("age", "target", "baseline", "start"), row or (None, None, None, None)))

    def daily(self, device_id, first=None, last=None, tz=None):
        """{date: {"steps", "brisk", "hours"[24]}} with the steps counted while the
        clock was unset placed on their dates: each uptime hour's start is the
        boot's start (UTC) plus whole hours, shown in tz (a tzinfo; default the
        computer's local time zone, daylight saving included)."""
        out = {}
        q = "SELECT date, steps, brisk, hours FROM days WHERE device=?"
        args = [device_id]
        if first:
            q += " AND date >= ?"
            args.append(first.isoformat())
        if last:
            q += " AND date <= ?"
            args.append(last.isoformat())
        for d, steps, brisk, hours in self.db.execute(q, args):
            out[date.fromisoformat(d)] = {"steps": steps, "brisk": brisk, "hours": [int(h) for h in hours.split(",")]}
        for day, hour, steps, brisk in self._placed(device_id, tz):
            if (first and day < first) or (last and day > last):
                continue
            rec = out.setdefault(day, {"steps": 0, "brisk": 0, "hours": [0] * 24})
            rec["steps"] += steps
            rec["hours"][hour] += steps
            rec["brisk"] += brisk
        return dict(sorted(out.items()))

    def _placed(self, device_id, tz=None):
        # (date, hour, steps, brisk) of uptime records whose boot start is known
        rows = self.db.execute(
            "SELECT b.started, u.uptime_day, u.hours, u.brisk FROM uptime u JOIN boots b "
            "ON b.device = u.device AND b.epoch = u.epoch AND b.boot = u.boot WHERE u.device=?",
            (device_id,),
        )
        for started, uday, hours, brisk in rows:
            start = datetime.fromisoformat(started)  # UTC: durations in UTC, local time only to place
            counts = [int(h) for h in hours.split(",")]
            # the record's brisk minutes go with its first hour that has steps
            brisk_hour = next((k for k, n in enumerate(counts) if n), 0)
            for k, n in enumerate(counts):
                if n or (k == brisk_hour and brisk):
                    t = (start + timedelta(hours=24 * uday + k)).astimezone(tz)
                    yield t.date(), t.hour, n, brisk if k == brisk_hour else 0

    def unplaced_steps(self, device_id):
        """Steps counted in boots whose start time no sync ever learnt."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(u.steps), 0) FROM uptime u LEFT JOIN boots b "
            "ON b.device = u.device AND b.epoch = u.epoch AND b.boot = u.boot WHERE u.device=? AND b.started IS NULL",
            (device_id,),
        ).fetchone()
        return row[0]

    def misdated_steps(self, device_id):
        """Steps on dates after the computer's date at the sync that brought them (a wrong device clock)."""
        row = self.db.execute("SELECT COALESCE(SUM(steps), 0) FROM day_pieces WHERE device=? AND misdated=1", (device_id,)).fetchone()
        return row[0]

    def check(self):
        """Integrity check: raises DatabaseError if SQLite finds the file damaged."""
        try:
            result = self.db.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"{self.path}: {_reason(e)}") from None
        if result != "ok":
            raise DatabaseError(f"{self.path}: damaged ({result})")


def _values(rec):
    return (rec["steps"], rec["brisk"], rec["overruns"], ",".join(map(str, rec["hours"])))


def _utc(when):
    """An aware UTC datetime; a naive one is taken as the computer's local time."""
    return when.astimezone(timezone.utc)


def _reason(e):
    text = str(e)
    if "locked" in text or "busy" in text:
        return "the database is locked by another program (another stepclip running?)"
    if "not a database" in text or "malformed" in text:
        return "not a stepclip database, or damaged (" + text + ")"
    return text
