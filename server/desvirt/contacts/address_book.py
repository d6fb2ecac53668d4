"""Reading address books people bring and writing the contacts they take away; no I/O here.

An import is all or nothing, so the readers never return half a file: they collect every
problem (with the line it is on) and raise one `ParseError`, or return every person. Two
formats come in: LinkedIn's `Connections.csv` export (a few "Notes:" lines before the
header) and vCard 3.0 / 4.0 files. Two go out: vCard 4.0 and CSV, both of which the
readers take back (exporting then importing gives the same people).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from desvirt.i18n import N_

MAX_FILE_BYTES = 1024 * 1024
MAX_PEOPLE = 5000
MAX_PROBLEMS_LISTED = 50
MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_URL_LENGTH = 500
MAX_PREAMBLE_ROWS = 20

SOURCES = ("linkedin", "vcard", "csv")

# LinkedIn writes "12 Mar 2024"; accounts set to Spanish or German get their month names.
MONTHS = {
    **{
        name: number
        for number, name in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
        )
    },
    **{
        name: number
        for number, name in enumerate(
            ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"), 1
        )
    },
    **{
        name: number
        for number, name in enumerate(
            ("jan", "feb", "mär", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "dez"), 1
        )
    },
    "mrz": 3,
    "sept": 9,
}
LINKEDIN_DATE = re.compile(r"^(\d{1,2})[ .-]+([^\W\d_]+)\.?[ .-]+(\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
EMAIL_SHAPE = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+$")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Columns, by the names each export uses (compared case- and space-insensitively).
COLUMN_NAMES = {
    "first_name": ("first name", "given name", "vorname", "nombre de pila"),
    "last_name": ("last name", "family name", "surname", "nachname", "apellidos"),
    "name": ("name", "full name", "display name"),
    "email": ("email address", "email", "e-mail address", "e-mail", "e-mail-adresse"),
    "company": ("company", "organization", "organisation", "firma", "empresa"),
    "position": ("position", "title", "job title"),
    "profile_url": ("url", "profile url", "linkedin url"),
    "connected_on": ("connected on", "since"),
}


@dataclass(frozen=True)
class Person:
    """Someone read from an address book file; empty strings where the file says nothing."""

    name: str
    email: str = ""
    company: str = ""
    position: str = ""
    profile_url: str = ""
    connected_on: date | None = None
    line: int = 0


@dataclass(frozen=True)
class Problem:
    """What is wrong at one line of a file: an English msgid with its parameters."""

    line: int
    message: str
    params: dict[str, object] = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        template = translate(self.message) if translate else self.message
        return template % self.params if self.params else template


class ParseError(ValueError):
    """The file cannot be imported; `problems` says where and why, `too_large` means 413."""

    def __init__(self, problems: Sequence[Problem], *, too_large: bool = False) -> None:
        self.problems = list(problems)
        self.too_large = too_large
        super().__init__("; ".join(f"line {p.line}: {p.text()}" for p in self.problems[:5]))


@dataclass(frozen=True)
class AddressBook:
    """What a file held: its format (one of SOURCES) and the people, without duplicates."""

    source: str
    people: list[Person]


@dataclass(frozen=True)
class ExportedContact:
    """One of my contacts as it leaves Desvirt."""

    handle: str
    display_name: str
    trust: str
    reason: str
    since: datetime
    meetings: int
    profile_url: str


def read_address_book(data: bytes, *, filename: str = "", content_type: str = "") -> AddressBook:
    """Read an uploaded file: vCard when it looks like one (or says so), else CSV."""
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(
            [
                Problem(
                    0,
                    N_("The file is larger than %(limit)s KiB."),
                    {"limit": MAX_FILE_BYTES // 1024},
                )
            ],
            too_large=True,
        )
    text = decode(data)
    head = text.lstrip()[:20].upper()
    kind = content_type.split(";")[0].strip().lower()
    is_vcard = (
        head.startswith("BEGIN:VCARD")
        or kind in ("text/vcard", "text/x-vcard", "text/directory")
        or filename.lower().endswith((".vcf", ".vcard"))
    )
    if is_vcard:
        return AddressBook("vcard", read_vcards(text))
    return read_csv(text)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is not a text file."""
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ParseError(
            [Problem(line, N_("This is not a UTF-8 text file. Export it again as UTF-8."))]
        ) from error
    if "\x00" in text:
        raise ParseError([Problem(1, N_("This is not a text file."))])
    return text


def read_csv(text: str) -> AddressBook:
    """LinkedIn's Connections.csv, or a CSV with a Name column such as Desvirt's own export."""
    records = _csv_records(text)
    header_line, header, columns, source = _find_header(records)
    problems: list[Problem] = []
    people: list[Person] = []
    for line, row in records:
        if line <= header_line or not any(cell.strip() for cell in row):
            continue
        cells = row[: len(header)] if not any(c.strip() for c in row[len(header) :]) else row
        if len(cells) != len(header):
            problems.append(
                Problem(
                    line,
                    N_("This row has %(found)s fields; the header has %(expected)s."),
                    {"found": len(cells), "expected": len(header)},
                )
            )
            continue
        values = {key: _unformula(cells[index].strip()) for key, index in columns.items()}
        if "name" in values:
            name = values["name"]
        else:
            name = f"{values.get('first_name', '')} {values.get('last_name', '')}"
        person, row_problems = _person(
            line,
            name=name,
            email=values.get("email", ""),
            company=values.get("company", ""),
            position=values.get("position", ""),
            profile_url=values.get("profile_url", ""),
            connected_on=values.get("connected_on", ""),
        )
        problems.extend(row_problems)
        if person is not None:
            people.append(person)
        _refuse_too_many(people, line)
    if problems:
        raise ParseError(problems)
    if not people:
        raise ParseError([Problem(header_line, N_("The file has a header but nobody in it."))])
    return AddressBook(source, unique_people(people))


def read_vcards(text: str) -> list[Person]:
    """Every card of a vCard 3.0 or 4.0 file (folded lines, several cards, groups, params)."""
    problems: list[Problem] = []
    people: list[Person] = []
    card: list[tuple[int, str, dict[str, list[str]], str]] | None = None
    begin_line = 0
    for line, content in _unfolded(text):
        if not content.strip():
            continue
        parsed = _content_line(content)
        if parsed is None:
            problems.append(Problem(line, N_("This line is not a vCard property (NAME:value).")))
            continue
        name, params, value = parsed
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            if card is not None:
                problems.append(Problem(line, N_("A card begins before the previous one ended.")))
            card, begin_line = [], line
        elif name == "END" and value.strip().upper() == "VCARD":
            if card is None:
                problems.append(Problem(line, N_("END:VCARD without BEGIN:VCARD.")))
                continue
            person, card_problems = _card_person(begin_line, card)
            problems.extend(card_problems)
            if person is not None:
                people.append(person)
            _refuse_too_many(people, line)
            card = None
        elif card is None:
            problems.append(Problem(line, N_("Text outside a card (BEGIN:VCARD … END:VCARD).")))
        else:
            card.append((line, name, params, value))
        if len(problems) > MAX_PROBLEMS_LISTED:
            break
    if card is not None:
        problems.append(Problem(begin_line, N_("This card has no END:VCARD.")))
    if problems:
        raise ParseError(problems)
    if not people:
        raise ParseError([Problem(1, N_("The file holds no cards."))])
    return unique_people(people)


def unique_people(people: Iterable[Person]) -> list[Person]:
    """The first of each person, where the same email or profile URL (or, without both, the
    same name) means the same person."""
    seen: set[str] = set()
    kept: list[Person] = []
    for person in people:
        keys = person_keys(person)
        if keys & seen:
            continue
        seen |= keys
        kept.append(person)
    return kept


def person_keys(person: Person) -> set[str]:
    """What identifies a person in an address book: email, profile URL, else the name."""
    keys = set()
    if person.email:
        keys.add("email:" + person.email)
    if person.profile_url:
        keys.add("url:" + person.profile_url)
    if not keys:
        keys.add("name:" + name_key(person.name))
    return keys


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def contacts_as_vcards(
    contacts: Iterable[ExportedContact], note: Callable[[ExportedContact], str] | None = None
) -> str:
    """vCard 4.0, one card per contact; reason and trust in NOTE, CATEGORIES and X- fields."""
    lines: list[str] = []
    for contact in contacts:
        text_note = (
            note(contact)
            if note
            else (
                f"Desvirt: trust {contact.trust}, reason {contact.reason}, "
                f"since {contact.since.date().isoformat()}"
            )
        )
        lines += [
            "BEGIN:VCARD",
            "VERSION:4.0",
            "FN:" + _escape(contact.display_name),
            "NICKNAME:" + _escape(contact.handle),
            "URL:" + contact.profile_url,
            "NOTE:" + _escape(text_note),
            "CATEGORIES:"
            + ",".join(
                _escape(c)
                for c in ("Desvirt", f"trust:{contact.trust}", f"reason:{contact.reason}")
            ),
            "X-DESVIRT-HANDLE:" + _escape(contact.handle),
            "X-DESVIRT-TRUST:" + _escape(contact.trust),
            "X-DESVIRT-REASON:" + _escape(contact.reason),
            "X-DESVIRT-SINCE:" + contact.since.isoformat(),
            f"X-DESVIRT-MEETINGS:{contact.meetings}",
            "END:VCARD",
        ]
    return "".join(_fold(line) + "\r\n" for line in lines)


CSV_EXPORT_HEADER = ("Name", "Handle", "Profile URL", "Trust", "Reason", "Since", "Meetings")


def contacts_as_csv(contacts: Iterable[ExportedContact]) -> str:
    """CSV with a header; cells that a spreadsheet would run as formulas start with a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_EXPORT_HEADER)
    for contact in contacts:
        writer.writerow(
            [
                _formula_safe(contact.display_name),
                contact.handle,
                contact.profile_url,
                contact.trust,
                contact.reason,
                contact.since.isoformat(),
                str(contact.meetings),
            ]
        )
    return buffer.getvalue()


# --- CSV -------------------------------------------------------------------------------


def _csv_records(text: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) of each CSV record; a broken quote is a problem at its line."""
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
            if len(records) > MAX_PEOPLE + MAX_PREAMBLE_ROWS + 1:
                raise _too_many(start)
    except csv.Error as error:
        raise ParseError(
            [
                Problem(
                    start,
                    N_("This line is not valid CSV (%(reason)s)."),
                    {"reason": str(error)},
                )
            ]
        ) from error
    return records


def _find_header(
    records: list[tuple[int, list[str]]],
) -> tuple[int, list[str], dict[str, int], str]:
    """The header row (after LinkedIn's notes), which columns it has, and which export it is."""
    for position, (line, cells) in enumerate(records):
        if position >= MAX_PREAMBLE_ROWS:
            break
        labels = [" ".join(cell.split()).casefold() for cell in cells]
        columns: dict[str, int] = {}
        for key, names in COLUMN_NAMES.items():
            for index, label in enumerate(labels):
                if label in names and key not in columns:
                    columns[key] = index
        has_name = "name" in columns or ("first_name" in columns and "last_name" in columns)
        if has_name:
            source = "linkedin" if "first_name" in columns and "connected_on" in columns else "csv"
            if "name" in columns:
                columns.pop("first_name", None)
                columns.pop("last_name", None)
            return line, cells, columns, source
    raise ParseError(
        [
            Problem(
                1,
                N_(
                    "No header with the columns First Name and Last Name (LinkedIn's "
                    "Connections.csv) or Name was found."
                ),
            )
        ]
    )


def _unformula(value: str) -> str:
    # A leading quote protects a formula start, or a quote that was itself leading.
    if value.startswith("'") and value[1:2] and value[1] in (*FORMULA_STARTS, "'"):
        return value[1:]
    return value


def _formula_safe(value: str) -> str:
    return "'" + value if value.startswith((*FORMULA_STARTS, "'")) else value


# --- vCard -----------------------------------------------------------------------------


def _unfolded(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines with the physical line each starts on; folds begin with space or tab."""
    current: str | None = None
    start = 0
    for number, physical in enumerate(LINE_BREAK.split(text), 1):
        if physical[:1] in (" ", "\t") and current is not None:
            current += physical[1:]
            continue
        if current is not None:
            yield start, current
        current, start = physical, number
    if current is not None:
        yield start, current


def _content_line(content: str) -> tuple[str, dict[str, list[str]], str] | None:
    """`group.NAME;param=a,b;param="x:y":value` → (NAME, params, value), or None."""
    in_quotes = False
    for index, char in enumerate(content):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            head, value = content[:index], content[index + 1 :]
            break
    else:
        return None
    parts = _split_params(head)
    name = parts[0].rsplit(".", 1)[-1].strip().upper()
    if not name or not re.fullmatch(r"[A-Z0-9-]+", name):
        return None
    params: dict[str, list[str]] = {}
    for part in parts[1:]:
        key, sep, raw = part.partition("=")
        key = key.strip().upper()
        if not sep:  # vCard 2.1 style bare parameter, e.g. ;PREF or ;WORK
            params.setdefault("TYPE", []).append(key.lower())
            continue
        values = [v.strip().strip('"') for v in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', raw)]
        params.setdefault(key, []).extend(v.lower() if key == "TYPE" else v for v in values)
    return name, params, value


def _split_params(head: str) -> list[str]:
    parts, current, in_quotes = [], "", False
    for char in head:
        if char == '"':
            in_quotes = not in_quotes
        if char == ";" and not in_quotes:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _card_person(
    line: int, properties: list[tuple[int, str, dict[str, list[str]], str]]
) -> tuple[Person | None, list[Problem]]:
    by_name: dict[str, list[tuple[dict[str, list[str]], str]]] = {}
    for _line, name, params, value in properties:
        by_name.setdefault(name, []).append((params, value))
    version = by_name.get("VERSION", [({}, "")])[0][1].strip()
    if version and version not in ("3.0", "4.0"):
        return None, [
            Problem(
                line,
                N_("vCard version %(version)s is not supported; export as vCard 3.0 or 4.0."),
                {"version": version[:10]},
            )
        ]
    name = _unescape(_first(by_name, "FN"))
    if not name.strip() and "N" in by_name:
        parts = [_unescape(p).replace(",", " ") for p in _split_unescaped(by_name["N"][0][1], ";")]
        family, given, additional, prefix, suffix = (parts + [""] * 5)[:5]
        name = " ".join(p for p in (prefix, given, additional, family, suffix) if p.strip())
    emails = [
        _unescape(value).strip().removeprefix("mailto:")
        for params, value in _preferred_first(by_name.get("EMAIL", []))
    ]
    urls = [
        _unescape(value).strip()
        for _, value in by_name.get("URL", [])
        + by_name.get("X-SOCIALPROFILE", [])
        + by_name.get("SOCIALPROFILE", [])
    ]
    profile = next((u for u in urls if u.lower().startswith(("https://", "http://"))), "")
    org = _split_unescaped(_first(by_name, "ORG"), ";")
    since = _unescape(_first(by_name, "X-DESVIRT-SINCE")).strip()
    return _person(
        line,
        name=name,
        email=next((e for e in emails if e), ""),
        company=_unescape(org[0]) if org else "",
        position=_unescape(_first(by_name, "TITLE")),
        profile_url=profile,
        connected_on=since,
    )


def _first(by_name: dict[str, list[tuple[dict[str, list[str]], str]]], name: str) -> str:
    values = _preferred_first(by_name.get(name, []))
    return values[0][1] if values else ""


def _preferred_first(
    values: list[tuple[dict[str, list[str]], str]],
) -> list[tuple[dict[str, list[str]], str]]:
    def rank(item: tuple[dict[str, list[str]], str]) -> int:
        params = item[0]
        if "pref" in params.get("TYPE", []):
            return 1
        pref = params.get("PREF", [])
        return int(pref[0]) if pref and re.fullmatch("[0-9]{1,3}", pref[0]) else 101

    return sorted(values, key=rank)


def _split_unescaped(value: str, separator: str) -> list[str]:
    return re.split(r"(?<!\\)" + re.escape(separator), value) if value else []


def _unescape(value: str) -> str:
    return re.sub(
        r"\\(.)",
        lambda m: "\n" if m.group(1) in "nN" else m.group(1),
        value,
    )


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
        .replace(",", "\\,")
        .replace(";", "\\;")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 6350 3.2)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    pieces: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, 74
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


# --- both ------------------------------------------------------------------------------


def _person(
    line: int,
    *,
    name: str,
    email: str,
    company: str,
    position: str,
    profile_url: str,
    connected_on: str,
) -> tuple[Person | None, list[Problem]]:
    problems: list[Problem] = []
    name = " ".join(name.split())
    if not name:
        problems.append(Problem(line, N_("This person has no name.")))
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(
                line,
                N_("The name is longer than %(count)s characters."),
                {"count": MAX_NAME_LENGTH},
            )
        )
    email = email.strip().lower()
    if email and (len(email) > MAX_EMAIL_LENGTH or not EMAIL_SHAPE.match(email)):
        problems.append(Problem(line, N_("This is not a valid email address.")))
    company, position = " ".join(company.split()), " ".join(position.split())
    if len(company) > MAX_TEXT_LENGTH or len(position) > MAX_TEXT_LENGTH:
        problems.append(
            Problem(
                line,
                N_("Company or position is longer than %(count)s characters."),
                {"count": MAX_TEXT_LENGTH},
            )
        )
    profile_url = profile_url.strip().rstrip("/")
    if profile_url and (
        not profile_url.lower().startswith(("https://", "http://"))
        or len(profile_url) > MAX_URL_LENGTH
        or any(c.isspace() for c in profile_url)
    ):
        problems.append(Problem(line, N_("The profile URL is not an http(s) address.")))
    day: date | None = None
    if connected_on.strip():
        day = parse_day(connected_on)
        if day is None:
            problems.append(
                Problem(
                    line,
                    N_("The date %(date)s cannot be read; write it like 12 Mar 2024."),
                    {"date": connected_on.strip()[:40]},
                )
            )
    if problems:
        return None, problems
    return (
        Person(
            name=name,
            email=email,
            company=company,
            position=position,
            profile_url=profile_url,
            connected_on=day,
            line=line,
        ),
        [],
    )


def parse_day(text: str) -> date | None:
    """'12 Mar 2024' (English, Spanish or German month), '2024-03-12', or an ISO timestamp."""
    text = " ".join(text.split())
    try:
        match = ISO_DATE.match(text)
        if match:
            if len(text) > 10:
                return datetime.fromisoformat(text).date()
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = LINKEDIN_DATE.match(text)
        if match:
            month = MONTHS.get(match[2].casefold()[:4]) or MONTHS.get(match[2].casefold()[:3])
            if month is None:
                return None
            return date(int(match[3]), month, int(match[1]))
    except ValueError:
        return None
    return None


def _refuse_too_many(people: Sequence[object], line: int) -> None:
    if len(people) > MAX_PEOPLE:
        raise _too_many(line)


def _too_many(line: int) -> ParseError:
    return ParseError(
        [
            Problem(
                line,
                N_("The file has more than %(limit)s people; split it into smaller files."),
                {"limit": MAX_PEOPLE},
            )
        ],
        too_large=True,
    )
