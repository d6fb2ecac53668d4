"""Address book files: LinkedIn's Connections.csv and vCards come in, vCard and CSV go out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from desvirt.contacts.address_book import (
    MAX_FILE_BYTES,
    MAX_PEOPLE,
    ExportedContact,
    ParseError,
    Person,
    contacts_as_csv,
    contacts_as_vcards,
    parse_day,
    read_address_book,
)
from desvirt.contacts.domain import REASONS, TRUST_LEVELS

LINKEDIN_NOTES = (
    "Notes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. You can learn more here "
    'https://www.linkedin.com/help/linkedin/answer/261"\r\n'
    "\r\n"
)
LINKEDIN_HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"


def linkedin(*rows: str) -> bytes:
    return (
        "\ufeff" + LINKEDIN_NOTES + LINKEDIN_HEADER + "".join(r + "\r\n" for r in rows)
    ).encode()


def problems_of(data: bytes, **hints: str) -> list[tuple[int, str]]:
    with pytest.raises(ParseError) as caught:
        read_address_book(data, **hints)
    return [(p.line, p.text()) for p in caught.value.problems]


# --- LinkedIn ----------------------------------------------------------------------------


def test_linkedin_export_with_notes_bom_quotes_and_missing_emails() -> None:
    book = read_address_book(
        linkedin(
            "Lucía,Fernández,https://www.linkedin.com/in/lucia,lucia@example.org,"
            '"Acme, S.L.",CTO,12 Mar 2024',
            'Jonas,Weber,https://www.linkedin.com/in/jonas-weber,,Siemens,"Engineer ""II""",'
            "01 Feb 2023",
        )
    )
    assert book.source == "linkedin"
    assert book.people == [
        Person(
            name="Lucía Fernández",
            email="lucia@example.org",
            company="Acme, S.L.",
            position="CTO",
            profile_url="https://www.linkedin.com/in/lucia",
            connected_on=date(2024, 3, 12),
            line=5,
        ),
        Person(
            name="Jonas Weber",
            email="",
            company="Siemens",
            position='Engineer "II"',
            profile_url="https://www.linkedin.com/in/jonas-weber",
            connected_on=date(2023, 2, 1),
            line=6,
        ),
    ]


def test_older_linkedin_export_without_notes_or_url_column() -> None:
    data = (
        b"First Name,Last Name,Email Address,Company,Position,Connected On\n"
        b"Ana,Ruiz,,,,3 Jan 2020\n"
    )
    book = read_address_book(data)
    assert [(p.name, p.connected_on) for p in book.people] == [("Ana Ruiz", date(2020, 1, 3))]


def test_a_quoted_field_may_span_lines_and_line_numbers_stay_right() -> None:
    data = linkedin('Ana,Ruiz,,,"Big\nCorp",,', ",,,,,,", "Ben,,,not-an-email,,,")
    assert problems_of(data) == [(8, "This is not a valid email address.")]


def test_bad_rows_are_all_listed_with_their_line_and_nothing_is_returned() -> None:
    data = linkedin(
        ",,https://www.linkedin.com/in/nobody,,,,",
        "Ana,Ruiz,javascript:alert(1),ana@example,,,",
        "Ben,Alt,,,,,32 Foo 2024",
        "Short,Row",
        "Fine,Person,,,,,",
    )
    assert problems_of(data) == [
        (5, "This person has no name."),
        (6, "This is not a valid email address."),
        (6, "The profile URL is not an http(s) address."),
        (7, "The date 32 Foo 2024 cannot be read; write it like 12 Mar 2024."),
        (8, "This row has 2 fields; the header has 7."),
    ]


def test_wrong_columns_are_refused_with_what_was_expected() -> None:
    [(line, text)] = problems_of(b"Vorname;Nachname;Mail\nAna;Ruiz;a@b.c\n")
    assert line == 1
    assert "First Name and Last Name" in text


def test_a_broken_quote_is_reported_at_its_line() -> None:
    [(line, text)] = problems_of(b'Name,Email\nAna,"a@b.c\nBen,b@c.d\n')
    assert line == 2
    assert "not valid CSV" in text


def test_a_header_with_nobody_is_an_error() -> None:
    assert problems_of(linkedin()) == [(4, "The file has a header but nobody in it.")]


def test_the_same_person_twice_in_a_file_is_kept_once() -> None:
    book = read_address_book(
        linkedin(
            "Ana,Ruiz,https://www.linkedin.com/in/ana/,,,,",
            "Ana,R.,https://www.linkedin.com/in/ana,,,,",
            "Ben,Alt,,ben@example.org,,,",
            "Benjamin,Alt,,BEN@example.org,,,",
        )
    )
    assert [p.name for p in book.people] == ["Ana Ruiz", "Ben Alt"]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("12 Mar 2024", date(2024, 3, 12)),
        ("1 dic 2023", date(2023, 12, 1)),
        ("07 Mär 2022", date(2022, 3, 7)),
        ("07 Okt. 2022", date(2022, 10, 7)),
        ("2024-03-12", date(2024, 3, 12)),
        ("2024-03-12T23:30:00+01:00", date(2024, 3, 12)),
        ("31 Feb 2024", None),
        ("yesterday", None),
    ],
)
def test_connection_dates(text: str, day: date | None) -> None:
    assert parse_day(text) == day


# --- vCard -------------------------------------------------------------------------------

VCARDS = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Weber;Jonas;;;\r\n"
    "FN:Jonas\r\n"
    "  Weber\r\n"
    "EMAIL;TYPE=INTERNET;TYPE=WORK:jonas@work.example\r\n"
    "EMAIL;TYPE=INTERNET,pref:Jonas@Home.example\r\n"
    "ORG:Siemens\\, AG;R&D\r\n"
    "TITLE:Engineer\r\n"
    "item1.URL:https://www.linkedin.com/in/jonas\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n"
    " BBBB\r\n"
    "END:VCARD\r\n"
    "\r\n"
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "N:Pérez;Ana;María;;\n"
    "EMAIL;PREF=2:second@example.es\n"
    'EMAIL;PREF=1;TYPE="work,voice":ana@example.es\n'
    "X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/ana\n"
    "END:VCARD\n"
)


def test_vcards_3_and_4_with_folds_groups_and_preferences() -> None:
    book = read_address_book(VCARDS.encode())
    assert book.source == "vcard"
    assert book.people == [
        Person(
            name="Jonas Weber",
            email="jonas@home.example",
            company="Siemens, AG",
            position="Engineer",
            profile_url="https://www.linkedin.com/in/jonas",
            line=1,
        ),
        Person(
            name="Ana María Pérez",
            email="ana@example.es",
            profile_url="https://www.linkedin.com/in/ana",
            line=15,
        ),
    ]


def test_broken_vcards_are_listed_by_line() -> None:
    data = (
        b"BEGIN:VCARD\nVERSION:3.0\nEMAIL:x@example.org\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:2.1\nFN:Old\nEND:VCARD\n"
        b"stray text\n"
        b"BEGIN:VCARD\nVERSION:4.0\nFN:Open\n"
    )
    assert problems_of(data) == [
        (1, "This person has no name."),
        (5, "vCard version 2.1 is not supported; export as vCard 3.0 or 4.0."),
        (9, "This line is not a vCard property (NAME:value)."),
        (10, "This card has no END:VCARD."),
    ]


def test_a_vcard_filename_is_read_as_vcard_even_when_empty() -> None:
    assert problems_of(b"\n", filename="contacts.vcf") == [(1, "The file holds no cards.")]


# --- limits and encodings ----------------------------------------------------------------


def test_a_file_over_the_size_limit_is_too_large() -> None:
    with pytest.raises(ParseError) as caught:
        read_address_book(b"x" * (MAX_FILE_BYTES + 1))
    assert caught.value.too_large


def test_more_people_than_the_limit_is_too_large() -> None:
    rows = [f"P{n},Q,,p{n}@example.org,,," for n in range(MAX_PEOPLE + 1)]
    with pytest.raises(ParseError) as caught:
        read_address_book(linkedin(*rows))
    assert caught.value.too_large


def test_exactly_the_limit_is_fine() -> None:
    rows = [f"P{n},Q,,p{n}@example.org,,," for n in range(MAX_PEOPLE)]
    assert len(read_address_book(linkedin(*rows)).people) == MAX_PEOPLE


def test_utf16_with_bom_is_read_and_other_bytes_are_not_text() -> None:
    data = "Name,Email\r\nZoë,zoe@example.org\r\n".encode("utf-16")
    assert read_address_book(data).people[0].name == "Zoë"
    assert problems_of(b"Name\nZo\xe9\n") == [
        (2, "This is not a UTF-8 text file. Export it again as UTF-8.")
    ]
    assert problems_of(b"Name\nAna\x00\n") == [(1, "This is not a text file.")]


# --- export ------------------------------------------------------------------------------

ANA = ExportedContact(
    handle="ana",
    display_name='Ana; Pérez, "la" =SUM(1)',
    trust="verified",
    reason="met_in_person",
    since=datetime(2024, 3, 12, 9, 30, tzinfo=UTC),
    meetings=3,
    profile_url="https://desvirt.example/u/ana",
)


def test_vcard_export_parses_in_an_independent_parser() -> None:
    card = vobject.readOne(contacts_as_vcards([ANA]))
    assert card.version.value == "4.0"
    assert card.fn.value == ANA.display_name
    assert card.url.value == ANA.profile_url
    assert card.x_desvirt_trust.value == "verified"
    assert card.x_desvirt_reason.value == "met_in_person"
    assert "verified" in card.note.value
    assert all(len(line.encode()) <= 75 for line in contacts_as_vcards([ANA]).split("\r\n"))


def test_csv_export_defuses_spreadsheet_formulas() -> None:
    text = contacts_as_csv([ANA, ExportedContact(**{**ANA.__dict__, "display_name": "=cmd"})])
    assert text.splitlines()[0] == "Name,Handle,Profile URL,Trust,Reason,Since,Meetings"
    assert "\r\n'=cmd,ana," in text


# --- properties --------------------------------------------------------------------------

names = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=80)
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
moments = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5))]),
)


@st.composite
def contact_lists(draw: st.DrawFn) -> list[ExportedContact]:
    handles = draw(st.lists(st.from_regex(r"[a-z0-9_]{3,30}", fullmatch=True), unique=True))
    return [
        ExportedContact(
            handle=handle,
            display_name=draw(names),
            trust=draw(st.sampled_from(TRUST_LEVELS[1:])),
            reason=draw(st.sampled_from(REASONS)),
            since=draw(moments),
            meetings=draw(st.integers(0, 10_000)),
            profile_url=f"https://desvirt.example/u/{handle}",
        )
        for handle in handles
    ]


def people_of(contacts: list[ExportedContact]) -> list[tuple[str, str, date]]:
    return [(c.display_name, c.profile_url, c.since.date()) for c in contacts]


@settings(max_examples=200)
@given(contact_lists().filter(bool))
def test_exported_vcards_read_back_as_the_same_people(contacts: list[ExportedContact]) -> None:
    book = read_address_book(contacts_as_vcards(contacts).encode())
    assert [(p.name, p.profile_url, p.connected_on) for p in book.people] == people_of(contacts)


@settings(max_examples=200)
@given(contact_lists().filter(bool))
def test_exported_csv_reads_back_as_the_same_people(contacts: list[ExportedContact]) -> None:
    book = read_address_book(contacts_as_csv(contacts).encode())
    assert [(p.name, p.profile_url, p.connected_on) for p in book.people] == people_of(contacts)


VCARD_PIECES = st.sampled_from(
    [
        "BEGIN:VCARD",
        "END:VCARD",
        "VERSION:3.0",
        "VERSION:4.0",
        "FN:Ana",
        "N:Ruiz;Ana;;;",
        "EMAIL;PREF=1:a@b.c",
        'EMAIL;TYPE="x:y":b@c.d',
        "URL:https://x.example/",
        "ORG:A\\;B;C",
        " folded",
        "X-DESVIRT-SINCE:2024-02-30",
        "",
    ]
)
CSV_PIECES = st.sampled_from(
    [
        "Notes:",
        LINKEDIN_HEADER.strip(),
        "Name,Email,Since",
        'Ana,Ruiz,https://x.example,a@b.c,"Co, Inc",Boss,12 Mar 2024',
        '"unclosed,',
        ",,,,,,",
        "a,b,c,d,e,f,g,h",
        "",
    ]
)


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=2000).map(str.encode),
        st.lists(st.one_of(VCARD_PIECES, st.text(max_size=30)), max_size=40).map(
            lambda lines: "\r\n".join(lines).encode()
        ),
        st.lists(st.one_of(CSV_PIECES, st.text(max_size=30)), max_size=40).map(
            lambda lines: "\n".join(lines).encode()
        ),
    ),
    st.sampled_from(["", "contacts.vcf", "Connections.csv"]),
)
def test_any_input_is_either_read_or_refused_with_a_parse_error(data: bytes, name: str) -> None:
    try:
        book = read_address_book(data, filename=name)
    except ParseError as error:
        assert error.problems
        assert all(isinstance(p.line, int) and p.text() for p in error.problems)
    else:
        assert book.people
        assert all(p.name and p.name == " ".join(p.name.split()) for p in book.people)
