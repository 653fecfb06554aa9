"""Search tokens for people: what a search box may hit with one exact GIN lookup.

`zxc` finds 赵熙晨 (initials), `zhaoxi` finds them too (full-pinyin prefix), so do
`熙晨` (a name substring), `123X` (ID tail) and `5678` (phone tail). Heteronyms
are indexed with every reading (单 = dan/shan/chan, 曾 = zeng/ceng), capped.

ID and phone tails are indexed as keyed hashes (`pii.tail_token`), never in
clear: beside the birth date in the same row, a clear tail would give most of
the ID number back to whoever reads a database dump.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from pypinyin import Style, pinyin

from aidcases import pii

MAX_READINGS = 12  # combinations of heteronym readings kept per name
MAX_TOKEN = 40


def _readings(name: str, style: Style) -> list[str]:
    chars = [c for c in name if "\u4e00" <= c <= "\u9fff" or c.isalnum()]
    if not chars:
        return []
    per_char = pinyin("".join(chars), style=style, heteronym=True, errors="ignore")
    combos = itertools.islice(itertools.product(*per_char), MAX_READINGS)
    return ["".join(parts).lower() for parts in combos]


def _prefixes(word: str, minimum: int = 2) -> set[str]:
    return {word[:i] for i in range(minimum, min(len(word), MAX_TOKEN) + 1)}


def name_tokens(name: str) -> set[str]:
    name = normalize_query(name)
    tokens: set[str] = set()
    for i in range(len(name)):
        for j in range(i + 1, min(len(name), i + 10) + 1):
            tokens.add(name[i:j])
    for full in _readings(name, Style.NORMAL):
        tokens |= _prefixes(full)
    for initials in _readings(name, Style.FIRST_LETTER):
        tokens |= _prefixes(initials)
    return tokens


def person_tokens(
    *, name: str, id_number: str = "", phone: str = "", guardian_phone: str = ""
) -> list[str]:
    tokens = name_tokens(name)
    if id_number:
        tokens |= {pii.tail_token("id", id_number[-n:]) for n in ID_TAIL_LENGTHS}
    for number in (phone, guardian_phone):
        digits = re.sub(r"\D", "", number)
        if len(digits) >= 4:
            tokens.add(pii.tail_token("phone", digits[-4:]))
    return sorted(t for t in tokens if t and len(t) <= MAX_TOKEN)


ID_TAIL_LENGTHS = (4, 6)
_ID_TAIL_RE = re.compile(r"^(\d{4}|\d{5}[\dx])$|^\d{3}x$")
_PHONE_TAIL_RE = re.compile(r"^\d{4}$")


def is_phone_tail(query: str) -> bool:
    """A normalised query that may be the last 4 digits of a phone number."""
    return bool(_PHONE_TAIL_RE.match(query))


def is_id_tail(query: str) -> bool:
    """A normalised query that may be the last 4 or 6 characters of an ID number."""
    return bool(_ID_TAIL_RE.match(query))


def is_whole_id(query: str) -> bool:
    return len(query) == pii.ID_LENGTH and query[:-1].isdigit()


def query_tokens(query: str, *, id_tails: bool) -> list[str]:
    """The tokens a normalised query may hit: itself (a name, pinyin), and the
    hashed tail tokens it could be. `id_tails=False` for roles that may not
    search by ID tail (a tail search answers "whose ID ends so")."""
    tokens = [query[:MAX_TOKEN]]
    if id_tails and is_id_tail(query):
        tokens.append(pii.tail_token("id", query))
    if is_phone_tail(query):
        tokens.append(pii.tail_token("phone", query))
    return tokens


def sort_key(name: str) -> str:
    """Pinyin (first reading) with the characters kept as a tiebreak: 安 < 白 < 陈."""
    from pypinyin import lazy_pinyin

    return (" ".join(lazy_pinyin(name or "")) + " " + (name or ""))[:120]


def normalize_query(text: str) -> str:
    """What a typed query is compared as: NFKC, no spaces or dots, lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s·.\u3000]+", "", text).lower()
