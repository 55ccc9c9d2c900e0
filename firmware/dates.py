# Calendar arithmetic in small integers: days and seconds since 2000-01-01.
# (Seconds since 2000 stay below 2**30 until 2034; time.time() since 1970 would not.)


def day_number(y, m, d):
    """Days since 2000-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 730425


def civil(n):
    """(year, month, day) of day number n (days since 2000-01-01)."""
    z = n + 730425
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def iso_date(n):
    y, m, d = civil(n)
    return "%04d-%02d-%02d" % (y, m, d)


def iso_time(s):
    """'YYYY-MM-DDTHH:MM:SS' of seconds since 2000-01-01."""
    day, rest = divmod(s, 86400)
    return "%sT%02d:%02d:%02d" % (iso_date(day), rest // 3600, rest % 3600 // 60, rest % 60)


def number(text):
    """int of plain decimal digits only (MicroPython's int() also takes '_' and signs)."""
    if not text or not text.isdigit():
        raise ValueError("not a number: " + text[:12])
    return int(text)


def parse_date(text):
    """Day number of 'YYYY-MM-DD'; ValueError if it is not a valid date."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError("date must be YYYY-MM-DD")
    y, m, d = number(text[0:4]), number(text[5:7]), number(text[8:10])
    if not (2000 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= 31):
        raise ValueError("date out of range")
    n = day_number(y, m, d)
    if civil(n) != (y, m, d):
        raise ValueError("no such date")
    return n


def parse_time(text):
    """Seconds since 2000-01-01 of 'YYYY-MM-DDTHH:MM:SS'; ValueError otherwise."""
    if len(text) != 19 or text[10] not in "T " or text[13] != ":" or text[16] != ":":
        raise ValueError("time must be YYYY-MM-DDTHH:MM:SS")
    h, mi, s = number(text[11:13]), number(text[14:16]), number(text[17:19])
    if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 60):
        raise ValueError("time out of range")
    return parse_date(text[:10]) * 86400 + h * 3600 + mi * 60 + s
