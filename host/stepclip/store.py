"""The local SQLite database of day records: versioned schema, one transaction per sync.

Default file: the user data directory (platformdirs), e.g.
~/.local/share/stepclip/stepclip.db; `--db FILE` or STEPCLIP_DB override it.

A day is the sum of its records per boot (day_pieces: the devices send one
record per date and boot, protocol 2), and the days table holds those sums. A
boot's record is merged by the rule "a boot's count never goes down": the host
keeps the larger of what it holds and what the device sends, so steps that a
device lost in a power cut after a sync stay. Records of the same boot are
named by (epoch, boot), unique over a device's life (firmware/store.py). Boot
start times are stored in UTC; steps counted with the clock unset are placed on
local dates and hours only when read (daily()).
"""
import os
import sqlite3
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

# Each step brings the schema from version i to i + 1 (MIGRATIONS[i]); a step is
# a name and its SQL statements (";"-separated, so no ";" in their comments),
# then optionally a method of Database to run, all in one transaction.
MIGRATIONS = [
    ("initial", """
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
    """),
    ("wear time", """
    -- minutes the clip was worn, per hour of the record (24 comma-separated
    -- numbers, 0-60), NULL when the device sent no wear data (older firmware)
    ALTER TABLE days ADD COLUMN wear_hours TEXT;
    ALTER TABLE uptime ADD COLUMN wear_hours TEXT
    """),
    ("persons", """
    -- the walking plan belongs to a person, and devices are attached to a person
    CREATE TABLE persons (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        age INTEGER, target INTEGER, baseline INTEGER, start TEXT
    );
    ALTER TABLE devices ADD COLUMN person INTEGER REFERENCES persons(id);
    -- every device keeps its plan: the most recently synced device's wearer is
    -- "me", every other device's wearer is named after the device
    INSERT INTO persons (name, age, target, baseline, start)
        SELECT CASE WHEN d.id = (SELECT id FROM devices ORDER BY last_sync DESC, id LIMIT 1) THEN 'me' ELSE d.id END,
               p.age, p.target, p.baseline, p.start
        FROM devices d LEFT JOIN plans p ON p.device = d.id ORDER BY d.last_sync DESC, d.id;
    INSERT INTO persons (name) SELECT 'me' WHERE NOT EXISTS (SELECT 1 FROM persons);
    UPDATE devices SET person = (SELECT p.id FROM persons p WHERE p.name = CASE
        WHEN devices.id = (SELECT id FROM devices ORDER BY last_sync DESC, id LIMIT 1) THEN 'me' ELSE devices.id END);
    DROP TABLE plans;
    -- a day marked by hand: worn (1) or not worn (0), whatever the wear data says
    CREATE TABLE day_marks (
        person INTEGER NOT NULL REFERENCES persons(id),
        date TEXT NOT NULL,
        worn INTEGER NOT NULL,
        marked TEXT NOT NULL,
        PRIMARY KEY (person, date)
    );
    -- plan history: hold, step-back or resume, given on a date: it decides the
    -- goal of the week after that date's plan week (the latest in a week wins)
    CREATE TABLE plan_events (
        id INTEGER PRIMARY KEY,
        person INTEGER NOT NULL REFERENCES persons(id),
        date TEXT NOT NULL,
        kind TEXT NOT NULL,
        made TEXT NOT NULL
    )
    """),
    ("records per boot", """
    -- a day's record of one boot (epoch, boot), days holds their sums. Rows of
    -- the days table before become the whole-day record of epoch 0, boot 0.
    -- misdated: dated after the computer's date at the sync (the device's clock
    -- was wrong), kept, not counted
    CREATE TABLE day_pieces (
        device TEXT NOT NULL REFERENCES devices(id),
        date TEXT NOT NULL,
        epoch INTEGER NOT NULL, boot INTEGER NOT NULL,
        steps INTEGER NOT NULL, brisk INTEGER NOT NULL, overruns INTEGER NOT NULL,
        hours TEXT NOT NULL, wear_hours TEXT,
        misdated INTEGER NOT NULL DEFAULT 0,
        synced TEXT NOT NULL,
        PRIMARY KEY (device, date, epoch, boot)
    );
    INSERT INTO day_pieces (device, date, epoch, boot, steps, brisk, overruns, hours, wear_hours, synced)
        SELECT device, date, 0, 0, steps, brisk, overruns, hours, wear_hours, synced FROM days;
    -- uptime and boots are keyed by (epoch, boot) too: epoch 0 for the rows before
    CREATE TABLE uptime_by_epoch (
        device TEXT NOT NULL REFERENCES devices(id),
        epoch INTEGER NOT NULL, boot INTEGER NOT NULL, uptime_day INTEGER NOT NULL,
        steps INTEGER NOT NULL, brisk INTEGER NOT NULL, overruns INTEGER NOT NULL,
        hours TEXT NOT NULL, wear_hours TEXT,
        synced TEXT NOT NULL,
        PRIMARY KEY (device, epoch, boot, uptime_day)
    );
    INSERT INTO uptime_by_epoch SELECT device, 0, boot, uptime_day, steps, brisk, overruns, hours, wear_hours, synced FROM uptime;
    DROP TABLE uptime;
    ALTER TABLE uptime_by_epoch RENAME TO uptime;
    -- started: UTC, ISO 8601 with +00:00 (it was the computer's local time, converted below)
    CREATE TABLE boots_by_epoch (
        device TEXT NOT NULL REFERENCES devices(id),
        epoch INTEGER NOT NULL, boot INTEGER NOT NULL,
        started TEXT NOT NULL,
        PRIMARY KEY (device, epoch, boot)
    );
    INSERT INTO boots_by_epoch SELECT device, 0, boot, started FROM boots;
    DROP TABLE boots;
    ALTER TABLE boots_by_epoch RENAME TO boots;
    -- the sync cursor: the device's epoch and the last close number stored
    ALTER TABLE devices ADD COLUMN cursor_epoch INTEGER;
    ALTER TABLE devices ADD COLUMN cursor_seq INTEGER
    """, "_boot_starts_to_utc"),
    ("battery per hour", """
    -- the lowest battery reading (VSYS, mV, 0: none) of each hour of a record and
    -- 1 for an hour with USB power (24 comma-separated numbers each), NULL when
    -- the device sent none (no reading, or firmware before 0.3.0)
    ALTER TABLE day_pieces ADD COLUMN battery_hours TEXT;
    ALTER TABLE day_pieces ADD COLUMN usb_hours TEXT;
    ALTER TABLE uptime ADD COLUMN battery_hours TEXT;
    ALTER TABLE uptime ADD COLUMN usb_hours TEXT
    """),
]
SCHEMA_VERSION = len(MIGRATIONS)
DEFAULT_PERSON = "me"
HOURS = 24


class DatabaseError(Exception):
    """The database cannot be used (locked, corrupt, newer than this stepclip)."""


def default_path():
    env = os.environ.get("STEPCLIP_DB")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("stepclip", appauthor=False)) / "stepclip.db"


class Database:
    """The SQLite database at `path` (default: default_path()), opened and migrated
    to SCHEMA_VERSION. With create=False a file that does not exist or is empty (0
    bytes) is refused (DatabaseError) instead of made; `created` says whether this
    open made it (discard() removes what it made). A database of another program
    (tables, but not stepclip's) is refused and left alone; so is a path whose
    folder does not exist, unless it is the default path (its folder is made)."""

    def __init__(self, path=None, timeout=2.0, create=True):
        self.path = Path(path) if path else default_path()
        self._was_empty = self.path.is_file() and self.path.stat().st_size == 0
        self.created = not self.path.exists() or self._was_empty
        self._made_folder = None
        if self.path.is_dir():
            raise DatabaseError(f"{self.path}: is a folder, not a database file")
        if self.created and not create:
            what = "an empty file, not a database" if self._was_empty else "no database there"
            raise DatabaseError(f"{self.path}: {what} (`stepclip sync` makes one; check --db or STEPCLIP_DB)")
        if not self.path.parent.is_dir():
            if path or os.environ.get("STEPCLIP_DB"):
                raise DatabaseError(f"{self.path}: the folder {self.path.parent} does not exist")
            self._made_folder = _missing_ancestor(self.path.parent)
        try:
            if self._made_folder:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # an existing database is opened read-write only: never made by this open
            uri = self.path.resolve().as_uri() + ("?mode=rwc" if self.created else "?mode=rw")
            self.db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            self._check_ours(create)
            self._migrate()
        except sqlite3.DatabaseError as e:
            self._close_quietly()
            raise DatabaseError(f"{self.path}: {_reason(e)}") from None
        except OSError as e:
            self._close_quietly()
            raise DatabaseError(f"{self.path}: cannot open: {e.strerror or e}") from None
        except DatabaseError:
            self._close_quietly()
            raise

    def _close_quietly(self):
        if getattr(self, "db", None) is not None:
            self.db.close()
        if self.created:
            self.discard()

    def _check_ours(self, create):
        """Refuse a database that has tables but not stepclip's (another program's),
        and, unless create, an SQLite file without any table (no database yet)."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            return  # a newer stepclip's, refused by _migrate
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
        if (tables and version == 0) or (version > 0 and "devices" not in tables):
            names = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
            raise DatabaseError(f"{self.path}: not a stepclip database (tables {names or 'none'}, schema {version}); "
                                "it is left alone: give another --db")
        if not tables and not create:
            raise DatabaseError(f"{self.path}: an SQLite file without tables, no database yet "
                                "(`stepclip sync` makes one; check --db or STEPCLIP_DB)")

    def discard(self):
        """Close and remove a database this open made (created): the file (an empty
        file that was there is emptied again), its journal and a folder made for it."""
        if not self.created:
            raise DatabaseError(f"{self.path}: not made by this open, not removed")
        if getattr(self, "db", None) is not None:
            self.db.close()
        for extra in ("-journal", "-wal", "-shm"):
            Path(str(self.path) + extra).unlink(missing_ok=True)
        if self._was_empty:
            self.path.write_bytes(b"")
        else:
            self.path.unlink(missing_ok=True)
        if self._made_folder:  # the folders made for it, innermost first, each only if empty
            folder = self.path.parent
            while True:
                try:
                    folder.rmdir()
                except OSError:
                    break
                if folder == self._made_folder:
                    break
                folder = folder.parent

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
                for statement in MIGRATIONS[step][1].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                for method in MIGRATIONS[step][2:]:
                    getattr(self, method)()
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _boot_starts_to_utc(self):
        # boot starts were stored in the computer's local time, without a zone
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
        """Insert or update a device (info: its ID fields); a new one is attached to
        a person (attach_new). cursor: (epoch, last close number stored)."""
        self.db.execute(
            "INSERT INTO devices (id, first_sync, last_sync, fw, proto, board, micropython) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET last_sync=excluded.last_sync, fw=excluded.fw, proto=excluded.proto, "
            "board=excluded.board, micropython=excluded.micropython",
            (device_id, when.isoformat(), when.isoformat(), info.get("fw"), int(info.get("proto", 0)), info.get("board"), info.get("micropython")),
        )
        if cursor is not None:
            self.db.execute("UPDATE devices SET cursor_epoch=?, cursor_seq=? WHERE id=?", (*cursor, device_id))
        if self.device_person(device_id) is None:
            self.attach_new(device_id)

    def attach_new(self, device_id):
        """A device seen for the first time joins the only person there is (a
        replacement or second clip carries on with that person's plan); when there
        are several, it gets a new person named after it. Returns the person's name."""
        persons = self.persons()
        if len(persons) == 1:
            name = persons[0]["name"]
        elif not persons:
            name = DEFAULT_PERSON
        else:
            name = device_id
        self.attach(device_id, name)
        return name

    def attach(self, device_id, name):
        """Attach a known device to the person `name` (made if new). Returns the person's id."""
        self.db.execute("INSERT OR IGNORE INTO persons (name) VALUES (?)", (name,))
        pid = self.person_id(name)
        self.db.execute("UPDATE devices SET person=? WHERE id=?", (pid, device_id))
        return pid

    def put_day(self, device_id, rec, when, misdated=False):
        """Merge a dated record of one boot (rec: date, epoch and boot (both 0: a
        whole day), steps, brisk, overruns, hours[24], wear[24] or None, battery[24]
        and usb[24] or None) and update
        the day's total. The stored record is replaced only by one with at least as
        many steps; a misdated record (after the computer's date) is kept but not
        counted, and stays so (misdated 1; misdated 2: dated before its boot
        began, judge_dates_before_boot). Returns what happened to the day's total: "new",
        "changed" or None."""
        key = (device_id, rec["date"], rec.get("epoch", 0), rec.get("boot", 0))
        old = self.db.execute(
            "SELECT steps, brisk, overruns, hours, wear_hours, battery_hours, usb_hours, misdated FROM day_pieces "
            "WHERE device=? AND date=? AND epoch=? AND boot=?", key
        ).fetchone()
        # misdated 1 (after the computer's date) stays so; 2 (before its boot
        # began) is judged again by judge_dates_before_boot
        misdated = 1 if misdated or (old and old[-1] == 1) else (old[-1] if old else 0)
        new = _values(rec)
        if old is None or (new[0] >= old[0] and (new, misdated) != (old[:-1], old[-1])):
            self.db.execute(
                "INSERT OR REPLACE INTO day_pieces (device, date, epoch, boot, steps, brisk, overruns, hours, wear_hours, "
                "battery_hours, usb_hours, misdated, synced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*key, *new, misdated, when.isoformat()),
            )
        return self._sum_day(device_id, rec["date"], when)

    def judge_dates_before_boot(self, device_id, now, when, tz=None, early_days=1):
        """Mark the records of each boot with a known start that are dated more
        than early_days before the local date (tz; default the computer's zone)
        the boot began: counted with a clock that was behind, kept, not counted
        (misdated 2). A record no longer so (its boot's start corrected by a later
        sync, or a start after now: stored by a computer whose clock ran ahead) is
        counted again. now: an aware datetime; when: the sync's time for the days
        rows changed. Returns the dates newly marked."""
        marked, changed = [], set()
        boots = self.db.execute("SELECT epoch, boot, started FROM boots WHERE device=?", (device_id,)).fetchall()
        for epoch, boot, started in boots:
            start = datetime.fromisoformat(started)
            earliest = "" if start > now else (start.astimezone(tz).date() - timedelta(days=early_days)).isoformat()
            rows = self.db.execute(
                "SELECT date, misdated FROM day_pieces WHERE device=? AND epoch=? AND boot=? AND misdated != 1",
                (device_id, epoch, boot),
            ).fetchall()
            for day, flag in rows:
                want = 2 if day < earliest else 0
                if want != flag:
                    self.db.execute("UPDATE day_pieces SET misdated=? WHERE device=? AND date=? AND epoch=? AND boot=?",
                                    (want, device_id, day, epoch, boot))
                    changed.add(day)
                    if want:
                        marked.append(day)
        for day in sorted(changed):
            self._sum_day(device_id, day, when)
        return sorted(marked)

    def _sum_day(self, device_id, day, when):
        # the days row of a date: the sum of its counted records (wear: minutes
        # per hour, capped at 60; None when no record has wear data)
        rows = self.db.execute(
            "SELECT steps, brisk, overruns, hours, wear_hours FROM day_pieces WHERE device=? AND date=? AND misdated=0",
            (device_id, day),
        ).fetchall()
        old = self.db.execute(
            "SELECT steps, brisk, overruns, hours, wear_hours FROM days WHERE device=? AND date=?", (device_id, day)
        ).fetchone()
        if not rows:
            if old is not None:
                self.db.execute("DELETE FROM days WHERE device=? AND date=?", (device_id, day))
            return None if old is None else "changed"
        hours = [sum(h) for h in zip(*(_numbers(r[3]) for r in rows))]
        wears = [_numbers(r[4]) for r in rows if r[4] is not None]
        wear = [min(60, sum(w)) for w in zip(*wears)] if wears else None
        new = (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows), _text(hours), _text(wear))
        if old == new:
            return None
        self.db.execute(
            "INSERT INTO days (device, date, steps, brisk, overruns, hours, wear_hours, synced) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT(device, date) DO UPDATE SET steps=excluded.steps, brisk=excluded.brisk, "
            "overruns=excluded.overruns, hours=excluded.hours, wear_hours=excluded.wear_hours, synced=excluded.synced",
            (device_id, day, *new, when.isoformat()),
        )
        return "new" if old is None else "changed"

    def put_uptime(self, device_id, rec, when):
        """Merge a record counted with the clock unset (rec: epoch, boot,
        uptime_day, steps, ...), by the same rule: never fewer steps. "new", "changed" or None."""
        key = (device_id, rec.get("epoch", 0), rec["boot"], rec["uptime_day"])
        old = self.db.execute(
            "SELECT steps, brisk, overruns, hours, wear_hours, battery_hours, usb_hours FROM uptime "
            "WHERE device=? AND epoch=? AND boot=? AND uptime_day=?", key
        ).fetchone()
        new = _values(rec)
        if old == new or (old is not None and new[0] < old[0]):
            return None
        self.db.execute(
            "INSERT OR REPLACE INTO uptime (device, epoch, boot, uptime_day, steps, brisk, overruns, hours, wear_hours, "
            "battery_hours, usb_hours, synced) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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

    def set_plan(self, person_id, **settings):
        """Store plan settings (age, target, baseline, start; None clears one)."""
        row = self.plan(person_id)
        row.update(settings)
        self.db.execute(
            "UPDATE persons SET age=?, target=?, baseline=?, start=? WHERE id=?",
            (row["age"], row["target"], row["baseline"], row["start"], person_id),
        )

    def mark_day(self, person_id, day, worn, when):
        """Mark a date worn (True) or not worn (False) by hand; None removes the mark."""
        if worn is None:
            self.db.execute("DELETE FROM day_marks WHERE person=? AND date=?", (person_id, day.isoformat()))
        else:
            self.db.execute(
                "INSERT OR REPLACE INTO day_marks (person, date, worn, marked) VALUES (?,?,?,?)",
                (person_id, day.isoformat(), int(bool(worn)), when.isoformat(timespec="seconds")),
            )

    def add_plan_event(self, person_id, day, kind, when):
        """Record a plan decision (hold, step-back, resume) given on `day`."""
        self.db.execute(
            "INSERT INTO plan_events (person, date, kind, made) VALUES (?,?,?,?)",
            (person_id, day.isoformat(), kind, when.isoformat(timespec="seconds")),
        )

    # --- reads ---------------------------------------------------------------------------------

    def devices(self):
        """Device ids, most recently synced first."""
        return [r[0] for r in self.db.execute("SELECT id FROM devices ORDER BY last_sync DESC, id")]

    def device(self, device_id):
        row = self.db.execute(
            "SELECT d.id, d.first_sync, d.last_sync, d.fw, d.proto, d.board, d.micropython, p.name "
            "FROM devices d LEFT JOIN persons p ON p.id = d.person WHERE d.id=?", (device_id,)
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("id", "first_sync", "last_sync", "fw", "proto", "board", "micropython", "person"), row))

    def device_person(self, device_id):
        """The id of the person a device is attached to (None: unknown device or none)."""
        row = self.db.execute("SELECT person FROM devices WHERE id=?", (device_id,)).fetchone()
        return row[0] if row else None

    def persons(self):
        """[{"id", "name", "devices": [ids, most recently synced first]}], in order of creation."""
        out = []
        for pid, name in self.db.execute("SELECT id, name FROM persons ORDER BY id").fetchall():
            out.append({"id": pid, "name": name, "devices": self.person_devices(pid)})
        return out

    def person_id(self, name):
        row = self.db.execute("SELECT id FROM persons WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def person_name(self, person_id):
        row = self.db.execute("SELECT name FROM persons WHERE id=?", (person_id,)).fetchone()
        return row[0] if row else None

    def person_devices(self, person_id):
        """Ids of the person's devices, most recently synced first."""
        return [r[0] for r in self.db.execute(
            "SELECT id FROM devices WHERE person=? ORDER BY last_sync DESC, id", (person_id,))]

    def last_sync(self, person_id):
        """The latest sync of any of the person's devices (datetime), or None."""
        row = self.db.execute("SELECT MAX(last_sync) FROM devices WHERE person=?", (person_id,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def cursor(self, device_id):
        """(epoch, last close number stored) of a device, or None: where its next sync goes on from."""
        row = self.db.execute("SELECT cursor_epoch, cursor_seq FROM devices WHERE id=?", (device_id,)).fetchone()
        return (row[0], row[1]) if row and row[0] is not None else None

    def plan(self, person_id):
        row = self.db.execute("SELECT age, target, baseline, start FROM persons WHERE id=?", (person_id,)).fetchone()
        return dict(zip(("age", "target", "baseline", "start"), row or (None, None, None, None)))

    def day_marks(self, person_id):
        """{date: True (marked worn) or False (marked not worn)}."""
        rows = self.db.execute("SELECT date, worn FROM day_marks WHERE person=?", (person_id,))
        return {date.fromisoformat(d): bool(w) for d, w in rows}

    def plan_events(self, person_id):
        """[{"date", "kind", "made"}] in the order they were given."""
        rows = self.db.execute("SELECT date, kind, made FROM plan_events WHERE person=? ORDER BY made, id", (person_id,))
        return [{"date": d, "kind": k, "made": m} for d, k, m in rows]

    def daily(self, device_id, first=None, last=None, tz=None):
        """{date: {"steps", "brisk", "hours"[24], "wear": [24] or None}} with the steps
        counted while the clock was unset placed on their dates: each uptime hour
        starts at the boot's start (UTC) plus whole hours, shown in tz (a tzinfo;
        default the computer's local time zone, daylight saving included). "wear"
        is the minutes worn in each hour, None when the device sent no wear data
        for that day."""
        out = {}
        q = "SELECT date, steps, brisk, hours, wear_hours FROM days WHERE device=?"
        args = [device_id]
        if first:
            q += " AND date >= ?"
            args.append(first.isoformat())
        if last:
            q += " AND date <= ?"
            args.append(last.isoformat())
        for d, steps, brisk, hours, wear in self.db.execute(q, args):
            out[date.fromisoformat(d)] = {"steps": steps, "brisk": brisk, "hours": _numbers(hours), "wear": _numbers(wear)}
        for day, hour, steps, brisk, worn in self._placed(device_id, tz):
            if (first and day < first) or (last and day > last):
                continue
            rec = out.setdefault(day, {"steps": 0, "brisk": 0, "hours": [0] * HOURS, "wear": None})
            rec["steps"] += steps
            rec["hours"][hour] += steps
            rec["brisk"] += brisk
            if worn is not None:
                if rec["wear"] is None:
                    rec["wear"] = [0] * HOURS
                rec["wear"][hour] = min(60, rec["wear"][hour] + worn)
        return dict(sorted(out.items()))

    def person_daily(self, person_id, first=None, last=None, tz=None):
        """Database.daily summed over the person's devices: a day's steps, brisk
        minutes and hours are the sums; its wear per hour the sum capped at 60
        minutes (None when no device sent wear data that day)."""
        out = {}
        for dev in self.person_devices(person_id):
            for d, rec in self.daily(dev, first, last, tz).items():
                acc = out.get(d)
                if acc is None:
                    out[d] = {"steps": rec["steps"], "brisk": rec["brisk"], "hours": list(rec["hours"]),
                              "wear": None if rec["wear"] is None else list(rec["wear"])}
                    continue
                acc["steps"] += rec["steps"]
                acc["brisk"] += rec["brisk"]
                acc["hours"] = [a + b for a, b in zip(acc["hours"], rec["hours"])]
                if rec["wear"] is not None:
                    base = acc["wear"] or [0] * HOURS
                    acc["wear"] = [min(60, a + b) for a, b in zip(base, rec["wear"])]
        return dict(sorted(out.items()))

    def _placed(self, device_id, tz=None):
        # (date, hour, steps, brisk, worn minutes or None) of uptime records whose boot start is known
        rows = self.db.execute(
            "SELECT b.started, u.uptime_day, u.hours, u.brisk, u.wear_hours FROM uptime u JOIN boots b "
            "ON b.device = u.device AND b.epoch = u.epoch AND b.boot = u.boot WHERE u.device=?",
            (device_id,),
        )
        for started, uday, hours, brisk, wear in rows:
            start = datetime.fromisoformat(started)  # UTC: durations in UTC, local time only to place
            counts = _numbers(hours)
            worn = _numbers(wear)
            # the record's brisk minutes go with its first hour that has steps
            brisk_hour = next((k for k, n in enumerate(counts) if n), 0)
            for k, n in enumerate(counts):
                w = None if worn is None else worn[k]
                if n or (k == brisk_hour and brisk) or w:
                    t = (start + timedelta(hours=24 * uday + k)).astimezone(tz)
                    yield t.date(), t.hour, n, brisk if k == brisk_hour else 0, w

    def battery_hours(self, device_id, tz=None):
        """[(hour, mV, usb)] of a device, oldest first: each hour with a battery reading
        or USB power. hour: a naive local datetime (tz, default the computer's zone;
        an hour counted with the clock unset is placed by its boot's start); mV: the
        lowest battery reading (VSYS) of that hour, 0 for none; usb: True when USB
        power was seen in it. Records of several boots on one hour merge (the lowest
        reading, USB if any saw it); misdated records and unplaced boots are left out."""
        hours = {}

        def add(when, mv, usb):
            old_mv, old_usb = hours.get(when, (0, False))
            low = min(v for v in (old_mv, mv) if v) if (old_mv or mv) else 0
            hours[when] = (low, old_usb or bool(usb))

        rows = self.db.execute(
            "SELECT date, battery_hours, usb_hours FROM day_pieces WHERE device=? AND misdated=0 AND battery_hours IS NOT NULL",
            (device_id,),
        )
        for day, battery, usb in rows:
            start = datetime.fromisoformat(day)
            for k, (mv, u) in enumerate(zip(_numbers(battery), _numbers(usb))):
                if mv or u:
                    add(start + timedelta(hours=k), mv, u)
        rows = self.db.execute(
            "SELECT b.started, u.uptime_day, u.battery_hours, u.usb_hours FROM uptime u JOIN boots b "
            "ON b.device = u.device AND b.epoch = u.epoch AND b.boot = u.boot WHERE u.device=? AND u.battery_hours IS NOT NULL",
            (device_id,),
        )
        for started, uday, battery, usb in rows:
            start = datetime.fromisoformat(started)
            for k, (mv, u) in enumerate(zip(_numbers(battery), _numbers(usb))):
                if mv or u:
                    t = (start + timedelta(hours=24 * uday + k)).astimezone(tz)
                    add(t.replace(minute=0, second=0, tzinfo=None), mv, u)
        return [(t, mv, usb) for t, (mv, usb) in sorted(hours.items())]

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
    """The stored columns of a record: steps, brisk, overruns, hours, wear_hours, battery_hours, usb_hours."""
    return (rec["steps"], rec["brisk"], rec["overruns"], _text(rec["hours"]), _text(rec.get("wear")),
            _text(rec.get("battery")), _text(rec.get("usb")))


def _text(numbers):
    """[1, 2, 3] -> "1,2,3"; None -> None."""
    return None if numbers is None else ",".join(map(str, numbers))


def _utc(when):
    """An aware UTC datetime; a naive one is taken as the computer's local time."""
    return when.astimezone(timezone.utc)


def _numbers(text):
    """"1,2,3" -> [1, 2, 3]; None -> None."""
    return None if text is None else [int(v) for v in text.split(",")]


def _missing_ancestor(folder):
    """The outermost folder of `folder` that does not exist yet (to remove what was made)."""
    folder = Path(folder)
    while not folder.parent.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _reason(e):
    text = str(e)
    if "locked" in text or "busy" in text:
        return "the database is locked by another program (another stepclip running?)"
    if "not a database" in text or "malformed" in text:
        return "not a stepclip database, or damaged (" + text + ")"
    return text
