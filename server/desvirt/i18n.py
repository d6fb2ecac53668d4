"""Translations (Babel catalogs in frontend/locale) and the choice of a reader's language."""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from desvirt.settings import PROJECT_ROOT, SUPPORTED_LOCALES

LOCALE_DIR = PROJECT_ROOT / "frontend" / "locale"
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated later, where the reader is known."""
    return message


@cache
def translations(locale: str) -> Translations:
    """The catalog of a locale, compiled in memory from its .po file (no build step to forget)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return Translations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def gettext(locale: str, message: str, **params: object) -> str:
    text = translations(locale).gettext(message)
    return text % params if params else text


def negotiate(accept_language: str | None) -> str:
    """The best supported locale for an Accept-Language header, by its q-values."""
    if not accept_language:
        return DEFAULT_LOCALE
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = tag.strip().split("-")[0].lower()
        if language in SUPPORTED_LOCALES and quality > 0:
            weighted.append((-quality, position, language))
    return min(weighted)[2] if weighted else DEFAULT_LOCALE


_DATE_LENGTHS: dict[str, Literal["full", "long", "medium", "short"]] = {
    "full": "full",
    "long": "long",
    "medium": "medium",
    "short": "short",
}


# Kept: a page lists the same few meetups to everyone, and Babel takes ~50 µs per moment.
@lru_cache(maxsize=8192)
def format_when(moment: datetime, timezone: str, locale: str, style: str = "medium") -> str:
    """A date and time as a reader of `locale` expects it, in `timezone`.

    `style` is the date's length (full, long, medium, short) in the locale's own pattern; the
    time never shows seconds (people meet at 19:30, not 19:30:00). `style="time"` gives the
    time alone, for an end on the same day.
    """
    reader = Locale(locale)
    local = moment.astimezone(ZoneInfo(timezone))
    time_text = format_time(local, format="short", locale=reader)
    if style == "time":
        return str(time_text)
    length = _DATE_LENGTHS.get(style, "medium")
    date_text = format_date(local.date(), format=length, locale=reader)
    pattern = str(get_datetime_format(length, locale=reader)).replace("'", "")
    return pattern.replace("{1}", date_text).replace("{0}", time_text)


@cache
def language_name(locale: str) -> str:
    """A language named in its own words, for the language switcher."""
    return str(Locale(locale).get_display_name(locale)).capitalize()
