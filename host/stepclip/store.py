"""The local SQLite database of day records: versioned schema, one transaction per sync.

Default file: the user data directory (platformdirs), e.g.
~/.local/share/stepclip/stepclip.db; `--db FILE` or STEPCLIP_DB override it.
"""
import os
import sqlite3
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

SCHEMA_VERSION = 1

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
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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

    def put_device(self, device_id, info, when):
        self.db.execute(
            "INSERT INTO devices (id, first_sync, last_sync, fw, proto, board, micropython) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET last_sync=excluded.last_sync, fw=excluded.fw, proto=excluded.proto, "
            "board=excluded.board, micropython=excluded.micropython",
            (device_id, when.isoformat(), when.isoformat(), info.get("fw"), int(info.get("proto", 0)), info.get("board"), info.get("micropython")),
        )

    def put_day(self, device_id, rec, when):
        """Insert or replace a dated record: "new", "changed", or None (unchanged)."""
        return self._put("days", ("device", "date"), (device_id, rec["date"]), rec, when)

    def put_uptime(self, device_id, rec, when):
        """Insert or replace a record counted with the clock unset: "new", "changed" or None."""
        return self._put("uptime", ("device", "boot", "uptime_day"), (device_id, rec["boot"], rec["uptime_day"]), rec, when)

    def _put(self, table, key_names, key, rec, when):
        new = (rec["steps"], rec["brisk"], rec["overruns"], ",".join(map(str, rec["hours"])))
        where = " AND ".join(f"{k}=?" for k in key_names)
        old = self.db.execute(f"SELECT steps, brisk, overruns, hours FROM {table} WHERE {where}", key).fetchone()
        if old == new:
            return None
        columns = ", ".join(key_names + ("steps", "brisk", "overruns", "hours", "synced"))
        marks = ",".join("?" * (len(key_names) + 5))
        self.db.execute(f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", (*key, *new, when.isoformat()))
        return "new" if old is None else "changed"

    def put_boot(self, device_id, boot, started):
        """Remember when a boot started; the first sync during that boot knows it."""
        self.db.execute(
            "INSERT OR IGNORE INTO boots (device, boot, started) VALUES (?,?,?)",
            (device_id, boot, started.isoformat(timespec="seconds")),
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

    def last_date(self, device_id):
        row = self.db.execute("SELECT MAX(date) FROM days WHERE device=?", (device_id,)).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def plan(self, device_id):
        row = self.db.execute("SELECT age, target, baseline, start FROM plans WHERE device=?", (device_id,)).fetchone()
        return dict(zip(("age", "target", "baseline", "start"), row or (None, None, None, None)))

    def daily(self, device_id, first=None, last=None):
        """{date: {"steps", "brisk", "hours"[24]}} with the steps counted while the
        clock was unset placed on their dates (by the boot's start time)."""
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
        for day, hour, steps, brisk in self._placed(device_id):
            if (first and day < first) or (last and day > last):
                continue
            rec = out.setdefault(day, {"steps": 0, "brisk": 0, "hours": [0] * 24})
            rec["steps"] += steps
            rec["hours"][hour] += steps
            rec["brisk"] += brisk
        return dict(sorted(out.items()))

    def _placed(self, device_id):
        # (date, hour, steps, brisk) of uptime records whose boot start is known
        rows = self.db.execute(
            "SELECT b.started, u.uptime_day, u.hours, u.brisk FROM uptime u JOIN boots b "
            "ON b.device = u.device AND b.boot = u.boot WHERE u.device=?",
            (device_id,),
        )
        for started, uday, hours, brisk in rows:
            start = datetime.fromisoformat(started)
            counts = [int(h) for h in hours.split(",")]
            # the record's brisk minutes go with its first hour that has steps
            brisk_hour = next((k for k, n in enumerate(counts) if n), 0)
            for k, n in enumerate(counts):
                if n or (k == brisk_hour and brisk):
                    t = start + timedelta(hours=24 * uday + k)
                    yield t.date(), t.hour, n, brisk if k == brisk_hour else 0

    def unplaced_steps(self, device_id):
        """Steps counted in boots whose start time no sync ever learnt."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(u.steps), 0) FROM uptime u LEFT JOIN boots b ON b.device = u.device AND b.boot = u.boot "
            "WHERE u.device=? AND b.started IS NULL",
            (device_id,),
        ).fetchone()
        return row[0]

    def check(self):
        """Integrity check: raises DatabaseError if SQLite finds the file damaged."""
        try:
            result = self.db.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise DatabaseError(f"{self.path}: {_reason(e)}") from None
        if result != "ok":
            raise DatabaseError(f"{self.path}: damaged ({result})")


def _reason(e):
    text = str(e)
    if "locked" in text or "busy" in text:
        return "the database is locked by another program (another stepclip running?)"
    if "not a database" in text or "malformed" in text:
        return "not a stepclip database, or damaged (" + text + ")"
    return text
