"""Persons and their devices: the walking plan belongs to a person, not to a clip.

A database has one person to begin with ("me"); every device synced into it is
attached to a person, and a person's day is the sum of their devices' records
for that date (a replacement clip, or two clips, carry on with the same plan).

    stepclip device list                      device_list(db)
    stepclip device attach ID [--person NAME] attach_device(db, ID, NAME)

Bad input raises PersonError, a ValueError with a one-line message.
"""
from datetime import datetime

from .store import DEFAULT_PERSON


class PersonError(ValueError):
    """Unknown person or device (one line, shown to the user; exit status 2)."""


def resolve_person(db, person=None, device=None):
    """(person id, name): the person named, else the one `device` is attached to,
    else the wearer of the most recently synced device. PersonError when the
    database has no device yet, or the name or device is unknown."""
    if person is not None and device is not None:
        pid = db.person_id(person)
        if pid is None or db.device_person(device) != pid:
            raise PersonError(f"device {device!r} is not attached to {person!r} (see `stepclip device list`)")
    if person is not None:
        pid = db.person_id(person)
        if pid is None:
            known = ", ".join(p["name"] for p in db.persons())
            raise PersonError(f"no person {person!r} in {db.path} (known: {known})")
        return pid, person
    known = db.devices()
    if device is not None:
        if device not in known:
            hint = f"known: {', '.join(known)}" if known else "it is empty: run `stepclip sync` first"
            raise PersonError(f"no device {device!r} in {db.path} ({hint})")
        pid = db.device_person(device)
        return pid, db.person_name(pid)
    if not known:
        raise PersonError(f"no device in {db.path} yet: plug the clip in and run `stepclip sync`")
    pid = db.device_person(known[0])
    return pid, db.person_name(pid)


def device_list(db):
    """[{"id", "person", "first_sync", "last_sync", "fw", "board", "days"}], most
    recently synced first, and the persons without a device: JSON-ready."""
    out = []
    for dev in db.devices():
        info = db.device(dev)
        n = db.db.execute("SELECT COUNT(*) FROM days WHERE device=?", (dev,)).fetchone()[0]
        out.append({k: info[k] for k in ("id", "person", "first_sync", "last_sync", "fw", "board")} | {"days": n})
    idle = [p["name"] for p in db.persons() if not p["devices"]]
    return {"devices": out, "persons_without_devices": idle}


def render_device_list(listing):
    rows = listing["devices"]
    if not rows:
        lines = ["No device yet: plug the clip in and run `stepclip sync`."]
    else:
        width = max(len(r["id"]) for r in rows)
        pw = max(6, *(len(r["person"]) for r in rows))
        lines = [f"{'device':<{width}}  {'person':<{pw}}  {'last synced':<16}  {'days':>5}  firmware"]
        for r in rows:
            last = datetime.fromisoformat(r["last_sync"]).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{r['id']:<{width}}  {r['person']:<{pw}}  {last:<16}  {r['days']:>5}  {r['fw'] or '-'}")
    if listing["persons_without_devices"]:
        lines.append("Persons without a device: " + ", ".join(listing["persons_without_devices"]))
    return "\n".join(lines)


def attach_device(db, device_id, person=None):
    """Attach a known device to `person` (default: DEFAULT_PERSON), made if new.
    Returns (person, previous person). PersonError for an unknown device or a
    name that is not usable."""
    name = DEFAULT_PERSON if person is None else person.strip()
    if not name or len(name) > 40 or not name.isprintable():
        raise PersonError(f"--person: a name of 1 to 40 printable characters, not {person!r}")
    if db.device(device_id) is None:
        known = db.devices()
        hint = f"known: {', '.join(known)}" if known else "sync it first: `stepclip sync`"
        raise PersonError(f"no device {device_id!r} in {db.path} ({hint})")
    before = db.device(device_id)["person"]
    with db.transaction():
        db.attach(device_id, name)
    return name, before
