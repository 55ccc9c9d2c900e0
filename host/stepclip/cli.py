"""The stepclip command line: a thin layer over the modules of this package."""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from stepclip_firmware import config

from . import __version__

# Modules are imported inside the commands that need them, so that a quick
# command (report, sync) does not pay for numpy, scipy or matplotlib.

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def _rate_help(what="device sample rate"):
    from . import sensor

    return f"{what}: {', '.join(map(str, sensor.DEVICE_RATES_HZ))} (the LIS3DH's rates the firmware supports; default {config.RATE_HZ})"


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit status 2), not the usage."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _out_file(path, suffix, option):
    """The file an --out/--plot option names: FILE gets `suffix` when it has none;
    its folder must exist. UsageError otherwise."""
    out = Path(path)
    if out.is_dir():  # never FOLDER.png beside it
        raise UsageError(f"{option} {path}: is a folder, not a file")
    if not out.suffix:
        out = out.with_name(out.name + suffix)
    folder = out.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: the folder {folder} does not exist")
    if out.is_dir():
        raise UsageError(f"{option} {path}: is a folder, not a file")
    return out


def _state_file(path, option):
    """A file an option keeps state in (read if there, else made): its folder must
    exist and it must not be a folder. UsageError otherwise."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{option} {path}: is a folder, not a file")
    if not p.parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {p.parent} does not exist")
    return p


def _add_device_options(p):
    p.add_argument("--rate", type=float, metavar="HZ", help=_rate_help())
    p.add_argument("--range", type=int, dest="range_g", metavar="G", help=f"sensor full scale in g: 2, 4, 8, 16 (default {config.RANGE_G})")
    p.add_argument("--bits", type=int, metavar="N", help=f"sensor resolution: 8, 10, 12 (default {config.RESOLUTION_BITS})")
    p.add_argument("--runtime", choices=("cpython", "micropython"), default="cpython", help="run the detector under CPython or the MicroPython unix port (default cpython)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _settings(args):
    from . import sensor

    rate = args.rate if args.rate is not None else config.RATE_HZ
    range_g = args.range_g if args.range_g is not None else config.RANGE_G
    bits = args.bits if args.bits is not None else config.RESOLUTION_BITS
    try:
        sensor.sensitivity(range_g, bits)
    except ValueError as e:
        raise UsageError(str(e)) from None
    rate = _device_rate(rate)
    return {"rate_hz": rate, "range_g": range_g, "bits": bits, "runtime": args.runtime}


def _device_rate(rate):
    """--rate as an int Hz the chip and the firmware support; UsageError if not."""
    from . import sensor

    try:
        return sensor.check_device_rate(rate)
    except ValueError as e:
        raise UsageError(f"--rate: {e}") from None


def _settings_line(s):
    return f"device view: {s['rate_hz']:g} Hz, +-{s['range_g']} g, {s['bits']}-bit; detector under {s['runtime']}"


def _pct(v):
    return "" if v is None else f"{v:+.1f}%"


def _num(v, fmt="d"):
    return "-" if v is None else format(v, fmt)


def cmd_detect(args):
    from . import detector, evaluate
    from . import trace as tracefile

    s = _settings(args)
    if not args.plot:
        plots = [None] * len(args.traces)
    elif len(args.traces) == 1:
        plots = [_out_file(args.plot, ".png", "--plot")]
    else:  # one chart per trace: FILE-<trace>.png
        plot = _out_file(args.plot, ".png", "--plot")
        plots = [plot.with_name(f"{plot.stem}-{Path(t).stem}.png") for t in args.traces]
    rows = []
    for path, plot_path in zip(args.traces, plots):
        tr = tracefile.read(path)
        view = evaluate.device_view(path, tr, s["rate_hz"], s["range_g"], s["bits"])
        result = detector.run(view.xyz, view.rate_hz, s["runtime"], keep_signal=plot_path is not None)
        if plot_path is not None:
            if result.filtered is None:  # the MicroPython run reports steps only
                result.filtered = detector.run(view.xyz, view.rate_hz, "cpython", True).filtered
            from . import plot

            plot.detection(view, result, plot_path, title=f"{tr.name} ({view.meta.get('device_view', '')})")
        rows.append(
            {
                "file": str(path),
                "true_steps": tr.steps,
                "counted": result.counted,
                "duration_s": round(tr.duration_s, 2),
                "error_pct": None if not tr.steps else round(100.0 * (result.counted - tr.steps) / tr.steps, 2),
                "plot": None if plot_path is None else str(plot_path),
            }
        )
    if args.json:
        print(json.dumps({"settings": s, "files": rows}, indent=2))
        return 0
    print(_settings_line(s))
    width = max(24, *(len(r["file"]) for r in rows))
    print(f"{'file':<{width}}  {'counted':>7}  {'true':>6}  {'error':>7}  {'minutes':>7}")
    for r in rows:
        print(f"{r['file']:<{width}}  {r['counted']:>7}  {_num(r['true_steps']):>6}  {_pct(r['error_pct']):>7}  {r['duration_s'] / 60:>7.2f}")
    for r in rows:
        if r["plot"]:
            print(f"plot: {r['plot']}")
    return 0


def _progress(items, enabled):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="evaluating", unit="file", file=sys.stderr, leave=False)


def cmd_evaluate(args):
    from . import evaluate
    from . import trace as tracefile

    s = _settings(args)
    paths = evaluate.find_traces(args.paths)
    if not paths:
        raise UsageError(f"no .csv traces under {', '.join(args.paths)}")
    results, errors = [], []
    show_progress = sys.stderr.isatty() and not args.no_progress
    for path in _progress(paths, show_progress):
        try:
            results.append(evaluate.evaluate_file(path, s["rate_hz"], s["range_g"], s["bits"], s["runtime"]))
        except tracefile.TraceError as e:
            errors.append(str(e))
    folders = evaluate.group(results, "folder")
    placements = evaluate.group(results, "placement")
    cadences = evaluate.by_cadence(results)
    overall = evaluate.summarize("all", results) if results else None
    if args.json:
        print(
            json.dumps(
                {
                    "settings": s,
                    "files": [r.as_dict() for r in results],
                    "folders": [f.as_dict() for f in folders],
                    "placements": [p.as_dict() for p in placements],
                    "cadence_bands": [c.as_dict() for c in cadences],
                    "all": overall.as_dict() if overall else None,
                    "errors": errors,
                },
                indent=2,
            )
        )
    else:
        _print_evaluation(s, results, folders, placements, cadences)
    for e in errors:
        print(f"stepclip: {e}", file=sys.stderr)
    return EXIT_BAD_INPUT if errors else 0


def _print_evaluation(s, results, folders, placements, cadences):
    print(_settings_line(s))
    width = max([28] + [len(Path(r.file).name) for r in results])
    for folder in folders:
        print(f"\n{folder.name}/")
        print(f"  {'file':<{width}}  {'true':>6}  {'counted':>7}  {'error':>7}  {'cadence':>7}")
        for r in results:
            if r.folder == folder.name:
                print(f"  {Path(r.file).name:<{width}}  {_num(r.true_steps):>6}  {r.counted:>7}  {_pct(r.error_pct):>7}  "
                      f"{_num(r.cadence_spm, '.0f'):>7}")
    for title, rows in (("folder", folders), ("placement", placements), ("cadence band", cadences)):
        w = max([16] + [len(str(g.name)) for g in rows])
        print(f"\nby {title}:")
        print(f"  {title:<{w}} {'files':>5}  {'true':>6}  {'counted':>7}  {'total err':>9}  {'MAPE':>6}  {'worst':>6}  {'false steps/h':>13}")
        for g in rows:
            print(
                f"  {str(g.name):<{w}} {g.files:>5}  {g.true_steps:>6}  {g.counted:>7}  {_pct(g.total_error_pct):>9}  "
                f"{_num(g.mape, '.2f'):>5}%  {_num(g.worst_pct, '.1f'):>5}%  {_num(g.false_steps_per_hour, '.1f'):>13}"
            )


def cmd_import(args):
    from . import phone
    from . import trace as tracefile

    generic = (args.time_col, args.x_col, args.y_col, args.z_col)
    fmt = "generic" if args.format == "auto" and any(c is not None for c in generic) else args.format
    if args.steps is not None and (args.steps < 0 or len(args.files) > 1):
        raise UsageError("--steps is the true step count of one recording: a number >= 0, with one FILE")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder")
    failed = 0
    for path in args.files:
        try:
            rec = phone.read(path, fmt, *generic, time_unit=args.time_unit, accel_unit=args.accel_unit)
            tr = phone.to_trace(rec, steps=args.steps, placement=args.placement)
            try:  # made for the first trace written: a refused file leaves nothing behind
                out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise UsageError(f"--out {out}: cannot make the folder: {e.strerror or e}") from None
            dest = out / phone.output_name(path)
            tracefile.write(dest, tr)
        except (phone.PhoneFileError, OSError) as e:
            print(f"stepclip: {e}", file=sys.stderr)
            failed += 1
            continue
        steps = f", {tr.steps} true steps" if tr.steps is not None else ""
        print(f"{path} -> {dest}: {rec.fmt}, {tr.duration_s / 60:.1f} min, {len(tr):,} samples at {tr.rate_hz:g} Hz{steps}")
    return EXIT_BAD_INPUT if failed else 0


def cmd_synth(args):
    from . import synth
    from . import trace as tracefile

    tr = synth.demo_trace(seed=args.seed, rate_hz=args.rate)
    tracefile.write(args.out, tr)
    print(f"wrote {args.out}: synthetic, {tr.duration_s / 60:.1f} min at {tr.rate_hz:g} Hz, {tr.steps} true steps ({tr.meta['activity']})")
    return 0


def cmd_emulate(args):
    from . import dates, emulator
    from . import trace as tracefile

    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UsageError(f"--speed must be a positive number, not {args.speed:g}")
    if args.deep_after is not None and args.deep_after < 0:
        raise UsageError(f"--deep-after must be 0 or more seconds, not {args.deep_after}")
    if args.json and not args.run_to_end:
        raise UsageError("--json needs --run-to-end (without it the device runs until Ctrl-C and prints its port)")
    start = dates.parse_datetime(args.start, "--start") if args.start else None
    rate = _device_rate(args.rate) if args.rate is not None else None
    device_id = emulator.check_id(args.id) if args.id is not None else None
    for option, path in (("--flash", args.flash), ("--battery", args.battery)):
        if path:
            _state_file(path, option)
    if args.flash:
        emulator.check_flash(args.flash)
    for path in args.traces:  # check them all first: one line for a bad file
        tracefile.read(path)
    emu = emulator.Emulator(args.traces, start=start, clock_unset=args.clock_unset, speed=args.speed, flash=args.flash,
                            device_id=device_id, rate_hz=rate, usb=args.usb, battery=args.battery,
                            deep_after_s=args.deep_after)
    try:
        if args.run_to_end:
            result = emu.run_to_end()
            if args.json:
                print(json.dumps(result, indent=2))
            else:
                for day in result["days"]:
                    print(f"{day['date']}  {day['steps']:>6} steps  {day['brisk']:>3} brisk min")
                for rec in result.get("uptime_records", []):
                    print(f"boot {rec['boot']} uptime day {rec['uptime_day']}  {rec['steps']:>6} steps (clock unset)")
                print(f"total  {result['total_steps']} steps")
                p = result["power"]
                print(f"power  {p['deep_ms'] / 1000:.0f} of {p['ms'] / 1000:.0f} s in deep sleep, wakes: {p['fifo']} FIFO, "
                      f"{p['motion']} motion, {p['timer']} timer")
            return 0
        port = emu.start()
        print(f"port: {port}", flush=True)
        print(f"emulated stepclip {emu.device_id or emulator.DEFAULT_ID}: {len(args.traces)} trace(s) at {args.speed:g}x, "
              f"clock {'unset' if args.clock_unset else 'set'}; Ctrl-C to stop", flush=True)
        while emu.alive():
            time.sleep(0.2)
        print(f"emulated device stopped: {emu.stderr().strip().splitlines()[-1:] or 'exit'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        emu.close()


def _add_port_option(p):
    p.add_argument("--port", metavar="PORT", help="serial port (default: the Pico running MicroPython, USB 2E8A:0005, that answers as a stepclip); the emulator's /dev/pts/N works too")


def _add_db_options(p, device=True):
    p.add_argument("--db", metavar="FILE", help="database file (default: $STEPCLIP_DB, else the user data directory)")
    if device:
        p.add_argument("--person", metavar="NAME", help="whose plan (default: the wearer of the last synced device)")
        p.add_argument("--device", metavar="ID", help="the person this device is attached to")


def _db(args, create=False):
    """The database; only `sync` may make a new one."""
    from . import store

    return store.Database(args.db, create=create)


def cmd_sync(args):
    from . import report, sync

    with _db(args, create=True) as db:
        known = set(db.devices())
        try:
            result = sync.sync(db, args.port)
        except BaseException:
            if db.created:  # a failed first sync leaves no database behind
                db.discard()
            raise
        if db.created:
            print(f"new database: {db.path}")
        today = result.synced_at.date()
        days = report.build(db, result.device_id, today=today, now=result.synced_at)["days"]
        person = db.device(result.device_id)["person"]
        if result.device_id not in known:
            others = [p["name"] for p in db.persons() if p["name"] != person]
            hint = f" (`stepclip device attach {result.device_id} --person NAME` to move it to {' or '.join(others)})" if others else ""
            print(f"new device {result.device_id}: attached to {person}, whose plan it now counts for{hint}")
    day = next((d for d in days if d["date"] == today.isoformat()), {"steps": 0, "goal": None})
    steps, goal = day["steps"] or 0, day["goal"]
    parts = _day_changes(result)
    if result.uptime_records:
        parts.append(f"{result.uptime_records} record(s) counted while its clock was unset, placed by uptime")
    print(f"synced {result.device_id} on {result.port}: {', '.join(parts)}")
    before = {"unset": " (it was unset: the device had lost power)", "stale": " (it had stopped: it read earlier than its newest record)"}
    print(f"clock set to {result.synced_at:%Y-%m-%d %H:%M:%S}" + before.get(result.clock, ""))
    for line in _sync_warnings(result):
        print("warning: " + line)
    progress = f" of today's goal {goal:,} ({100 * steps // goal}%)" if goal else " (the baseline week: no goal yet)"
    print(f"today {today:%a %Y-%m-%d}: {steps:,} steps{progress}")
    return 0


def _plural(n, word, words=None):
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def _day_changes(result):
    """What a sync did to the days, counted in dates (a date with several records,
    one per boot, is one day): new to the database, updated, or nothing new."""
    new = set(result.days_new)
    updated = set(result.days_changed) - new
    parts = ([_plural(len(new), "new day")] if new else []) + ([f"{_plural(len(updated), 'day')} updated"] if updated else [])
    return parts or ["no new steps"]


def _sync_warnings(result):
    if result.restarted:
        yield ("the device was stopped at MicroPython's REPL (a Ctrl-C on its serial port) and counted nothing "
               "while stopped: restarted it")
    st = result.storage
    if st.get("storage") not in (None, "ok") or st.get("unsaved") not in (None, "0"):
        what = "full" if st.get("storage") == "full" else "failing"
        yield (f"the device's flash is {what}: {st.get('unsaved')} closed record(s) are only in its RAM "
               "(synced now; lost if it loses power); it keeps counting")
    if st.get("dropped") not in (None, "0"):
        yield f"the device dropped its {st['dropped']} oldest record(s) to make room on its flash"
    if result.misdated:
        yield (f"{len(result.misdated)} record(s) dated after today ({', '.join(sorted(set(result.misdated)))}): "
               "the device's clock was wrong; kept in the database, not counted")
    if result.misdated_early:
        yield (f"{len(result.misdated_early)} record(s) dated before their boot began "
               f"({', '.join(sorted(set(result.misdated_early)))}): the device's clock was behind; "
               "kept in the database, not counted")
    yield from result.refused


def cmd_plan(args):
    from . import report

    with _db(args) as db:
        saved = []
        if any(v is not None for v in (args.age, args.target, args.baseline, args.start)):
            changes = report.set_plan(db, args.device, age=args.age, target=args.target, baseline=args.baseline,
                                      start=args.start, person=args.person)
            saved = [f"{k} {'auto' if v is None else (f'{v:,}' if isinstance(v, int) else v)}" for k, v in changes.items()
                     if not (k == "target" and args.target is None)]  # cleared by --age, not given
        decision = args.decision
        if decision:
            nxt = report.plan_decision(db, decision, args.device, person=args.person)
            saved.append({"hold": f"hold: next week keeps this week's goal, {nxt['goal']:,} a day",
                          "step-back": f"step back: next week {nxt['goal']:,} a day",
                          "resume": "resume: next week's goal follows the usual rule again"}[decision])
        summary = report.plan_summary(db, args.device, person=args.person)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        if saved:
            print(f"saved for {summary['person']}: " + "; ".join(saved))
        print(report.render_plan(summary))
    return 0


def cmd_report(args):
    from . import report

    plot_path = _out_file(args.plot, ".png", "--plot") if args.plot else None
    with _db(args) as db:
        r = report.build(db, args.device, week=args.week, weeks=args.weeks, person=args.person)
        if plot_path:
            report.plot(db, args.device, plot_path, weeks=max(args.weeks, 4) if args.weeks == 1 else args.weeks,
                        week=args.week, person=args.person)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(report.render(r))
    if plot_path:
        print(f"chart: {plot_path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_day(args):
    from . import report

    with _db(args) as db:
        if args.mark is not None:
            report.mark_day(db, args.date, {"worn": True, "not-worn": False, "auto": None}[args.mark], args.device, person=args.person)
        info = report.day_info(db, args.date, args.device, person=args.person)
    print(json.dumps(info, indent=2) if args.json else report.render_day(info))
    return 0


def cmd_device(args):
    from . import person

    with _db(args) as db:
        if args.action == "attach":
            name, before = person.attach_device(db, args.id, args.person)
            same = " (it already was)" if before == name else f" (it was attached to {before})" if before else ""
            print(f"{args.id} is attached to {name}{same}: its days count for {name}'s plan")
            return 0
        listing = person.device_list(db)
    print(json.dumps(listing, indent=2) if args.json else person.render_device_list(listing))
    return 0


def cmd_share(args):
    from . import share

    out = _out_file(args.out or share.default_name(), ".html", "--out")
    with _db(args) as db:
        s = share.write_page(db, out, weeks=args.weeks, person=args.person, device_id=args.device)
    print(f"wrote {out}: {s['person']}'s walking summary, {s['days'][0]['date']} to {s['days'][-1]['date']} "
          f"({len(s['weeks'])} week{'s' if len(s['weeks']) != 1 else ''}); open it in a browser to read or print it")
    return 0


def cmd_export(args):
    from contextlib import nullcontext

    from . import report

    out = _out_file(args.out, ".csv", "--out") if args.out else None
    with _db(args) as db:
        with open(out, "w", newline="") if out else nullcontext(sys.stdout) as f:
            n = report.export_csv(db, f, args.device, person=args.person, first=args.first, last=args.last, hourly=args.hourly)
    if out:
        print(f"wrote {_plural(n, 'device record') if args.hourly else _plural(n, 'day')} to {out}", file=sys.stderr)
    return 0


def cmd_battery(args):
    from . import battery

    plot_path = _out_file(args.plot, ".png", "--plot") if args.plot else None
    with _db(args) as db:
        r = battery.battery(db, args.device)
    if plot_path:
        battery.plot(r, plot_path)
    print(json.dumps(battery.as_json(r), indent=2) if args.json else battery.render(r))
    if plot_path:
        print(f"chart: {plot_path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_record(args):
    from . import record

    return record.record_command(args.port, _out_file(args.out, ".csv", "--out"), args.seconds)


def cmd_deploy(args):
    from . import deploy

    deploy.deploy(args.port, args.dry_run)
    return 0


def cmd_demo(args):
    from . import demo

    demo.run(args.out)
    return 0


def build_parser():
    parser = Parser(prog="stepclip", description="Host tool for the stepclip step counter.")
    parser.add_argument("--version", action="version", version=f"stepclip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("detect", help="count steps in trace files", description="Count steps in trace CSV files with the device's detector, on the device view of each trace (the sensor's rate, range and resolution).")
    p.add_argument("traces", nargs="+", metavar="TRACE", help="trace CSV file(s)")
    _add_device_options(p)
    p.add_argument("--plot", metavar="FILE.png", help="draw the signal, the filtered signal, counted and true steps (one PNG per trace)")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("evaluate", help="accuracy over folders of traces", description="Count every trace under the given files and folders and report the error per file, per folder and per placement: total error, mean absolute % error over files with steps, and false steps per hour over files with zero steps.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="trace CSV files or folders (searched recursively)")
    _add_device_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("sync", help="copy the day records from the device into the database", description="Find the stepclip (USB 2E8A:0005, or --port), set its clock, fetch the days that are new or changed, and store them in the local database in one transaction.")
    _add_port_option(p)
    _add_db_options(p, device=False)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("plan", help="show or set the walking plan", description="Show the walking plan, or set it: start from the average of the first synced week (the baseline), add 500 steps a day each week until the target (8,000 a day under 60, 6,000 from 60). A week whose goal was not met keeps its goal. In a flare-up, --hold keeps this week's goal next week and --step-back lowers next week's goal by one step (500); both are kept in the plan's history. Give 'auto' to go back to the value derived from the data. General guidance, not medical advice.")
    p.add_argument("--age", metavar="N", help="the walker's age: sets the target (8,000 under 60, 6,000 from 60)")
    p.add_argument("--target", metavar="N", help="daily target in steps (instead of the age rule)")
    p.add_argument("--baseline", metavar="N", help="daily steps to start from (default: the first synced week's average)")
    p.add_argument("--start", metavar="DATE", help="first day of the plan, YYYY-MM-DD (default: the first synced day)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--hold", dest="decision", action="store_const", const="hold", help="a flare-up: keep this week's goal next week")
    g.add_argument("--step-back", dest="decision", action="store_const", const="step-back", help="a flare-up: next week's goal one step (500) below this week's")
    g.add_argument("--resume", dest="decision", action="store_const", const="resume", help="cancel a --hold or --step-back given this week")
    _add_db_options(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("report", help="this week against the plan", description="The week day by day against its goal, what today still needs, when the clip was last synced, the weekly average over the days worn, days met, brisk minutes, the streak of weeks met and next week's goal. Days the clip was worn less than 10 hours (or marked not worn) are shown and left out.")
    p.add_argument("--week", metavar="DATE", help="show the plan week that contains this date, YYYY-MM-DD (default: today)")
    p.add_argument("--weeks", type=int, default=1, metavar="N", help="how many weeks, ending with that one (default 1; the chart shows at least 4)")
    p.add_argument("--plot", metavar="FILE.png", help="also draw daily steps as bars and the goal as a step line (.png is added when FILE has no extension)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_db_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("day", help="show a day, or mark it worn or not worn", description="Show one day: steps, goal, wear time and whether it counts for the plan. A day the clip was not worn (forgotten on the table) is left out of the week's average and days met; the clip measures its wear time, and you can mark a day by hand (for a clip without wear data, or when it got it wrong).")
    p.add_argument("date", metavar="DATE", help="the day, YYYY-MM-DD")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--not-worn", dest="mark", action="store_const", const="not-worn", help="mark the day not worn: left out of the plan")
    g.add_argument("--worn", dest="mark", action="store_const", const="worn", help="mark the day worn: it counts, whatever the wear time says")
    g.add_argument("--auto", dest="mark", action="store_const", const="auto", help="remove the mark: the clip's wear time decides again")
    p.add_argument("--json", action="store_true", help="print the day as JSON")
    _add_db_options(p)
    p.set_defaults(func=cmd_day)

    p = sub.add_parser("device", help="list the devices, or attach one to a person", description="The walking plan belongs to a person; each device (clip) is attached to a person, and a day's steps are the sum over that person's devices. A new clip joins the only person there is; with several persons it gets a person of its own until you attach it.")
    dsub = p.add_subparsers(dest="action", metavar="ACTION")
    dsub.required = True
    q = dsub.add_parser("list", help="the devices and whom they are attached to", description="List the devices in the database: id, person, last sync, days, firmware.")
    q.add_argument("--json", action="store_true", help="print the list as JSON")
    _add_db_options(q, device=False)
    q.set_defaults(func=cmd_device)
    q = dsub.add_parser("attach", help="attach a device to a person", description="Attach a device to a person (made if new): from then on its days count for that person's plan (a replacement or second clip carries on with the plan).")
    q.add_argument("id", metavar="ID", help="the device id (see `stepclip device list`)")
    q.add_argument("--person", metavar="NAME", help="the person (default: me)")
    q.add_argument("--db", metavar="FILE", help="database file (default: $STEPCLIP_DB, else the user data directory)")
    q.set_defaults(func=cmd_device)

    p = sub.add_parser("share", help="a summary page to take to the therapist", description="Write one self-contained HTML page (no network, prints on one or two A4 pages): the plan, each week's average against its goal, days met, days worn, brisk minutes, the trend, holds and step-backs, the chart, and the not-medical-advice line.")
    p.add_argument("--weeks", type=int, metavar="N", help="how many plan weeks, ending with this one (default: the plan so far, at most 12; at most 26)")
    p.add_argument("--out", metavar="FILE.html", help="where to write it (default: stepclip-summary-<today>.html here; .html is added when FILE has no extension)")
    _add_db_options(p)
    p.set_defaults(func=cmd_share)

    p = sub.add_parser("export", help="days as CSV: steps, goal, met, worn", description="Write a person's days as CSV: date, steps (summed over the person's devices), goal, met, worn (1: the day counts, 0: not worn enough or marked not worn), wear_minutes, brisk minutes. With --hourly, one row per device and day instead: steps, brisk minutes, overruns, wear minutes, steps and wear minutes in each hour, and the steps placed on the date after the clock was unset.")
    p.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (default: the first with data)")
    p.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (default: the last with data)")
    p.add_argument("--hourly", action="store_true", help="one row per device and day, with the per-hour columns")
    p.add_argument("--format", choices=("csv",), default="csv", help="output format (csv)")
    p.add_argument("--out", metavar="FILE", help="write to this file (default: standard output)")
    _add_db_options(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("battery", help="how long a charge lasts, from the device's own readings", description="The battery's discharge since the last charge (a rise of 0.1 V or more from one hourly reading to the next, on USB power or while the clip was off; a sync's few minutes on USB only top it up) and the days a full charge lasts at this wearer's use, from the battery voltage (VSYS) the device keeps for every hour (firmware 0.3.0 or later; `stepclip sync` first). An estimate on a generic LiPo curve: see hardware/README.md to measure it with a USB power meter.")
    p.add_argument("--device", metavar="ID", help="the device (default: the most recently synced)")
    p.add_argument("--db", metavar="FILE", help="database file (default: $STEPCLIP_DB, else the user data directory)")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the voltage over time, the hours on USB power and the discharge drawn on to empty (.png is added when FILE has no extension)")
    p.add_argument("--json", action="store_true", help="print the estimate and every reading as JSON")
    p.set_defaults(func=cmd_battery)

    p = sub.add_parser("record", help="record raw samples from the device into a trace file", description="Stream raw samples from the device into a trace CSV (rate, range, resolution and device id in its header), until --seconds, Ctrl-C or the end of the stream. An interrupted recording still leaves a valid file; `stepclip detect` works on it.")
    _add_port_option(p)
    p.add_argument("--out", required=True, metavar="TRACE.csv", help="trace file to write")
    p.add_argument("--seconds", type=int, metavar="N", help="how long to record (default: until Ctrl-C)")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("deploy", help="compile the firmware and copy it to the Pico", description="Read the Pico's MicroPython version, compile the firmware with the matching mpy-cross, copy with mpremote only the files that changed, set the clock and restart the app.")
    _add_port_option(p)
    p.add_argument("--dry-run", action="store_true", help="list what would be copied, write nothing")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("demo", help="the whole workflow on an emulated device", description="Run the emulated device for 19 synthetic days of the walking plan (worn ten hours a day; one day the clip lay on the table, which its own wear time leaves out), sync it into a temporary database, print the report and the battery estimate and write the charts and the page to share with the therapist. Two to three minutes (ten worn hours a day, emulated sample by sample); no hardware needed.")
    p.add_argument("--out", metavar="DIR", help="where to write the database and the chart (default: a new temporary folder)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("emulate", help="run the firmware on an emulated device", description="Run the real firmware under the MicroPython unix port on an emulated board: its LIS3DH plays the device view of the traces one after another (then lies still), its flash is littlefs in a file, and its USB serial port is a pseudo-terminal. Prints 'port: /dev/pts/N' first; pyserial and stepclip open that path like a plugged-in Pico.")
    p.add_argument("traces", nargs="*", metavar="TRACE", help="trace CSV files to play")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="emulated seconds per real second (default 1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--start", metavar="ISO-DATETIME", help="set the device clock to this local time at start, 2000-01-01 to 2099-12-31 (default: now)")
    g.add_argument("--clock-unset", action="store_true", help="start with the clock unset, like a Pico after power-up (2021-01-01)")
    p.add_argument("--flash", metavar="FILE", help="keep the device's flash (littlefs image) in this file across runs (default: a temporary file); a file that is not one is refused, never formatted")
    p.add_argument("--id", metavar="HEX", help="the device id, 16 hex digits (default e0000000c11b0001): give each emulated device its own to sync several into one database")
    p.add_argument("--rate", type=float, metavar="HZ", help=_rate_help("the firmware's sensor rate, as if built with config.RATE_HZ = HZ"))
    p.add_argument("--usb", action="store_true", help="run on USB power (charging the emulated battery); default: on its battery, which runs down")
    p.add_argument("--battery", metavar="FILE", help="keep the emulated battery's charge in this file across runs (default: a full battery each run); the time between runs drains it")
    p.add_argument("--run-to-end", action="store_true", help="play the traces as fast as possible, then print the stored day records and exit")
    p.add_argument("--deep-after", type=int, metavar="S", help="the firmware's deep sleep after S seconds still, as if built with config.DEEP_SLEEP_AFTER_S = S (0: never; default config's)")
    p.add_argument("--json", action="store_true", help="with --run-to-end: print {days: [...], total_steps: N, power: {...}} as JSON (power: ms played, deep_ms in deep sleep, wakes fifo/motion/timer, samples read, clock_error_ms)")
    p.set_defaults(func=cmd_emulate)

    p = sub.add_parser("import", help="phone app recordings into trace files", description="Convert CSV recordings from phone apps into trace files that detect, evaluate and emulate read: phyphox ('Acceleration with g'), Physics Toolbox Sensor Suite (g-Force Meter) and Sensor Logger (TotalAcceleration.csv, or Accelerometer.csv with Gravity.csv beside it), known by their header, or any CSV with --time-col/--x-col/--y-col/--z-col. Time becomes milliseconds, acceleration milli-g (with gravity: recordings without it are refused), and the irregular phone timestamps a uniform grid.")
    p.add_argument("files", nargs="+", metavar="FILE", help="CSV file(s) as the app exported them")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the trace files (made if missing); each is named after its recording")
    p.add_argument("--format", choices=("auto", "phyphox", "physics-toolbox", "sensor-logger", "generic"), default="auto", help="which app wrote the file (default auto: known by its header)")
    p.add_argument("--steps", type=int, metavar="N", help="the true number of steps, counted while recording (one FILE)")
    p.add_argument("--placement", metavar="P", help="where the phone was carried, e.g. front-pocket, belt (into the trace header)")
    g = p.add_argument_group("generic CSV (any other app)")
    g.add_argument("--time-col", metavar="C", help="time column: header name or number from 1")
    g.add_argument("--x-col", metavar="C", help="x acceleration column")
    g.add_argument("--y-col", metavar="C", help="y acceleration column")
    g.add_argument("--z-col", metavar="C", help="z acceleration column")
    g.add_argument("--time-unit", choices=("s", "ms", "us", "ns"), default="s", help="unit of the time column (default s)")
    g.add_argument("--accel-unit", choices=("m/s2", "g", "mg"), default="m/s2", help="unit of x, y, z (default m/s2)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("synth", help="write a synthetic walking trace", description="Write a synthetic trace (labelled synthetic in its header): standing, walks with a turn, sitting and bumps, with the true heel strikes in its step column.")
    p.add_argument("out", metavar="OUT.csv", help="trace file to write")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    p.add_argument("--rate", type=float, default=100, metavar="HZ", help="sample rate of the trace (default 100)")
    p.set_defaults(func=cmd_synth)
    return parser


def _input_errors():
    """Exceptions that mean bad input or a device/database problem: one line, exit 2."""
    from . import detector, device, protocol, store
    from . import trace as tracefile

    return (
        UsageError,
        ValueError,  # includes TraceError and ReportError
        detector.RuntimeMissing,
        device.DeviceNotFound,
        device.NotStepclip,  # includes OldFirmware
        device.DeviceTimeout,
        protocol.ProtocolError,
        protocol.DeviceError,
        store.DatabaseError,
        tracefile.TraceError,
    )


def _name_subparsers(parser):
    # every (sub)command remembers its prog, for one-line errors about extra arguments
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sp in action.choices.values():
                sp.set_defaults(_prog=sp.prog)
                _name_subparsers(sp)


class Terminated(BaseException):
    """SIGTERM or SIGHUP: end like Ctrl-C, so that every child process and temporary file goes too."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise Terminated(signum)


def _end_with_signals():
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), _terminate)
            except ValueError:  # not the main thread (main() called by a test)
                pass


def main(argv=None):
    parser = build_parser()
    _name_subparsers(parser)
    args, extra = parser.parse_known_args(argv)
    if extra:
        prog = getattr(args, "_prog", parser.prog)
        parser.exit(EXIT_BAD_INPUT, f"{prog}: unrecognized arguments: {' '.join(extra)} (see `{prog} --help`)\n")
    _end_with_signals()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("stepclip: interrupted", file=sys.stderr)
        return 130
    except Terminated as e:
        return 128 + e.signum
    except BrokenPipeError:
        return 0
    except Exception as e:
        if isinstance(e, _input_errors()):
            print(f"stepclip: {_one_line(e)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if isinstance(e, OSError):  # a file or folder that cannot be read or written
            where = f"{e.filename}: " if e.filename else ""
            print(f"stepclip: {where}{e.strerror or e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if isinstance(e, RuntimeError):
            print(f"stepclip: {_one_line(e)}", file=sys.stderr)
            return 1
        if os.environ.get("STEPCLIP_DEBUG"):
            raise
        print(f"stepclip: unexpected error ({e.__class__.__name__}: {_one_line(e)}); "
              "STEPCLIP_DEBUG=1 shows the details, please report them", file=sys.stderr)
        return 1


def _one_line(e):
    return " ".join(str(e).split())


if __name__ == "__main__":
    sys.exit(main())
