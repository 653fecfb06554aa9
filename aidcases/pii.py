"""The two most sensitive fields of a person: 居民身份证号码 and phone numbers.

Pure functions, no models: models, forms and the Excel import call these.

ID numbers are stored so that a database dump does not show them (PIPL, minors'
data): `encrypt` for the value, `id_hash` (keyed HMAC) for the unique constraint
and exact lookup, `tail_token` (keyed too) for ID- and phone-tail search, and
the birth date/gender from `parse_id_number`.

What may be *shown together* outside a logged view is ruled here as well
(`id_candidates`, `MIN_ID_CANDIDATES`, `mask_id_number`, `birth_year_text`):
an ID is area (6) + birth date (8) + sequence (3) + check, so a masked ID
beside a full birth date is nearly the full ID.

Messages users read are Simplified Chinese `ValidationError`s with a `code`;
they never repeat the number itself, because import reports and logs carry them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Literal

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumberType
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

__all__ = [
    "DecryptionError",
    "IdInfo",
    "decrypt",
    "encrypt",
    "birth_year_text",
    "id_candidates",
    "id_hash",
    "mask_id_number",
    "mask_phone",
    "needs_rotation",
    "normalize_id_number",
    "normalize_phone",
    "parse_id_number",
    "phone_tail",
    "rotate",
    "tail_token",
]

ID_LENGTH = 18
OLD_ID_LENGTH = 15
EARLIEST_BIRTH_YEAR = 1900

# Excel keeps 15 significant digits: an 18-digit ID typed into a number cell
# comes back as 1.40822199001011E+17 (a float) with its tail gone for good.
EXCEL_DIGITS = 15
_SCIENTIFIC_RE = re.compile(r"^\d+(\.\d+)?E\+?\d+$")
_WHOLE_FLOAT_RE = re.compile(r"^(\d+)\.0+$")
_ID_FORMAT_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_OLD_ID_RE = re.compile(r"^[0-9]{15}$")
# Excel's "this is text" marker, plus the curly quotes a Chinese IME types instead.
_LEADING_QUOTES = "'‘’`"
# NFKC leaves these alone; people type them between digit groups.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))


# --- ID numbers -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str
    birth_date: date
    gender: Literal["male", "female"]
    area_code: str
    # False when stdnum's table does not know the area code for the birth year
    # (fictional demo counties, codes renamed after the number was issued):
    # a warning for staff, never a reason to refuse the number.
    area_known: bool


def _excel_number_error() -> ValidationError:
    return ValidationError(
        _("身份证号码被Excel存成了数字，后几位已丢失，请把该列设为文本后重新填写"),
        code="id_excel_number",
    )


def _clean_text(raw: str) -> str:
    """NFKC (full-width → ASCII), drop every kind of space and invisible format
    character, and Excel's leading text-marker apostrophe."""
    text = unicodedata.normalize("NFKC", raw).translate(_DASHES)
    text = "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc")
    )
    return text.lstrip(_LEADING_QUOTES)


def _whole_number(value: float | Decimal) -> int | None:
    """The integer an Excel number cell holds, or None if it is not whole."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        return int(value)
    return int(value) if value.is_integer() else None


def _is_blank_number(value: object) -> bool:
    # An empty cell read through pandas comes back as NaN.
    return isinstance(value, float | Decimal) and math.isnan(value)


def _id_from_integer(value: int) -> str:
    digits = str(value)
    # An integer longer than Excel's precision ends in the zeros Excel put
    # there; a real number rarely does and then its check digit still holds.
    if len(digits) > EXCEL_DIGITS and digits.endswith("000"):
        if len(digits) != ID_LENGTH or ric.calc_check_digit(digits) != digits[-1]:
            raise _excel_number_error()
    return digits


def normalize_id_number(raw: object) -> str:
    """Return the ID number as 18 (or however many) uppercase ASCII characters.

    Only cleans; `parse_id_number` validates. None and blanks give "".
    """
    if raw is None or _is_blank_number(raw):
        return ""
    if isinstance(raw, bool):
        raise ValidationError(_("无法识别的身份证号码"), code="id_format")
    if isinstance(raw, int):
        return _id_from_integer(raw)
    if isinstance(raw, float | Decimal):
        # Only a whole number within Excel's 15 digits survived intact (an old
        # 15-digit number, which parse_id_number then explains); longer lost its tail.
        whole = _whole_number(raw)
        if whole is not None and len(str(whole)) <= EXCEL_DIGITS:
            return str(whole)
        raise _excel_number_error()
    text = _clean_text(str(raw)).upper()
    if _SCIENTIFIC_RE.match(text):
        raise _excel_number_error()
    whole = _WHOLE_FLOAT_RE.match(text)
    if whole:
        # "140822199001011000.0": a float turned back into text somewhere.
        if len(whole.group(1)) > EXCEL_DIGITS:
            raise _excel_number_error()
        text = whole.group(1)
    return text


def parse_id_number(raw: object, *, today: date | None = None) -> IdInfo:
    """Validate an ID number and derive birth date, gender and area.

    Raises ValidationError with a distinct Chinese message (and code) for each
    failure. An unknown area code is not a failure: see `IdInfo.area_known`.
    """
    number = normalize_id_number(raw)
    if not number:
        raise ValidationError(_("请填写身份证号码"), code="id_empty")
    if len(number) == OLD_ID_LENGTH and _OLD_ID_RE.match(number):
        raise ValidationError(
            _("这是15位的旧身份证号码，请换成18位新号码（以现行身份证或户口簿为准）"),
            code="id_old_15",
        )
    if len(number) != ID_LENGTH:
        raise ValidationError(
            _("身份证号码应为18位，当前为%(length)d位"),
            code="id_length",
            params={"length": len(number)},
        )
    if not _ID_FORMAT_RE.match(number):
        raise ValidationError(
            _("身份证号码格式错误：前17位只能是数字，最后一位是数字或X"), code="id_format"
        )
    # stdnum's calc_check_digit wants all 18 characters and ignores the last.
    if ric.calc_check_digit(number) != number[-1]:
        raise ValidationError(
            _("身份证号码校验位错误，请逐位核对（最后一位由前17位算出）"), code="id_checksum"
        )
    try:
        birth_date = ric.get_birth_date(number)
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            _("身份证号码中的出生日期（第7至14位）不是有效日期"), code="id_birth_date"
        ) from None
    if today is None:
        today = timezone.localdate() if settings.USE_TZ else date.today()
    if birth_date > today:
        raise ValidationError(
            _("身份证号码中的出生日期晚于今天，请核对第7至14位"), code="id_birth_future"
        )
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            _("身份证号码中的出生日期早于1900年，请核对第7至14位"), code="id_birth_too_early"
        )
    return IdInfo(
        number=number,
        birth_date=birth_date,
        gender="male" if int(number[16]) % 2 else "female",
        area_code=number[:6],
        area_known=_area_known(number),
    )


def _area_known(number: str) -> bool:
    # The answer depends on the area code and the birth year only: cache it
    # (stdnum's lookup costs ~0.3 ms, a 10,000-row import asks 10,000 times).
    return _area_known_for(number[:6], number[6:10])


@functools.lru_cache(maxsize=8192)
def _area_known_for(area_code: str, birth_year: str) -> bool:
    probe = f"{area_code}{birth_year}0101001"
    probe += ric.calc_check_digit(probe + "0")
    try:
        ric.get_birth_place(probe)
    # InvalidComponent for unknown codes or codes not in use in the birth year;
    # KeyError when the province is known but the county is not (e.g. 149901):
    # stdnum 2.2 does not turn that one into a ValidationError.
    except (stdnum_exceptions.ValidationError, KeyError, ValueError):
        return False
    return True


def mask_id_number(number: object, *, tail: int | None = None) -> str:
    """Show the area code and the last `tail` characters only (149901**********2X).

    The default tail (`ID_TAIL_SHOWN`) is what may stand beside a birth *year*;
    beside a full birth date show none (`tail=0`): see `id_candidates`."""
    tail = ID_TAIL_SHOWN if tail is None else tail
    try:
        text = normalize_id_number(number)
    except ValidationError:
        return "*" * 8
    if len(text) <= 6 + tail:
        return "*" * len(text)
    shown_tail = text[len(text) - tail :] if tail else ""
    return f"{text[:6]}{'*' * (len(text) - 6 - tail)}{shown_tail}"


def id_hash(number: object) -> str:
    """Keyed hash (HMAC-SHA256, hex) of the normalised number, for the unique
    constraint and exact lookup. A bare SHA-256 would fall to a dictionary of
    all ~10^11 plausible numbers in hours; the key lives outside the database."""
    normalized = normalize_id_number(number)
    if not normalized:
        raise ValueError("id_hash() needs a non-empty ID number")
    key = settings.ID_HASH_KEY
    if not key or not isinstance(key, str):
        raise ImproperlyConfigured("ID_HASH_KEY must be a non-empty string")
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()


def _derived_key(purpose: str) -> bytes:
    """A key of the ID_HASH_KEY family for one purpose: changing ID_HASH_KEY
    (and running rotate_id_key) changes every derived hash too."""
    key = settings.ID_HASH_KEY
    if not key or not isinstance(key, str):
        raise ImproperlyConfigured("ID_HASH_KEY must be a non-empty string")
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).digest()


def keyed_digest(purpose: str, value: str, length: int = 32) -> str:
    """A keyed hash of ``value`` for one purpose (ID_HASH_KEY family), hex."""
    return hmac.new(_derived_key(purpose), value.encode(), hashlib.sha256).hexdigest()[:length]


TAIL_KINDS = {"id": "#i", "phone": "#p"}


def tail_token(kind: Literal["id", "phone"], tail: str) -> str:
    """The search token of an ID or phone tail: a keyed hash, so that a dump of
    the search index holds no tail in clear (a tail + the birth date beside it
    is most of an ID). Prefixed by kind: a phone tail never finds an ID."""
    digest = hmac.new(
        _derived_key("search-tail"), f"{kind}:{tail.upper()}".encode(), hashlib.sha256
    )
    return TAIL_KINDS[kind] + digest.hexdigest()[:32]


# --- what may be shown together ----------------------------------------------
#
# Outside a logged view (the 一人一档 page, a reveal), nothing shown together
# about one person may narrow their ID number to fewer than MIN_ID_CANDIDATES.
# Given the county's area code and the gender, each birth date leaves 500
# sequences; the check character then passes one in eleven of what a shown
# tail leaves open. So:
#   birth year (or age) + 4-character tail  ≈ 365 ÷ 11            ≈ 33    — too few
#   birth year (or age) + 2-character tail  ≈ 365 × 100 ÷ 11      ≈ 3,300
#   full birth date     + 1 character       ≈ 500 ÷ 11            ≈ 45    — too few
#   full birth date, no tail                = 500
# The display policy: masked IDs show the area code and two characters
# (`ID_TAIL_SHOWN`), birth information is the birth *year* (a year does not
# change from day to day, whereas an age watched daily gives the birthday
# away); a full birth date is shown only beside a masked ID without tail.

MIN_ID_CANDIDATES = 100
ID_TAIL_SHOWN = 2
# 2^(17-i) mod 11: the weight of the i-th of the 17 digits in the check.
_CHECK_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK_CHARS = "10X98765432"


def _check_char(weighted_sum: int) -> str:
    return _CHECK_CHARS[weighted_sum % 11]


def birth_year_text(birth: date | None) -> str:
    """What lists show of a birth date: "2012年生"."""
    return f"{birth.year}年生" if birth else ""


def _birth_dates(shown: dict, today: date) -> list[date]:
    first, last = date(EARLIEST_BIRTH_YEAR, 1, 1), today
    if shown.get("birth_date"):
        first = last = shown["birth_date"]
    if shown.get("birth_year"):
        year = int(shown["birth_year"])
        first, last = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
    if shown.get("age") is not None:
        age = int(shown["age"])
        # Born after today's date age+1 years ago, on or before it age years ago.
        latest = _years_before(today, age)
        earliest = _years_before(today, age + 1) + (date(2000, 1, 2) - date(2000, 1, 1))
        first, last = max(first, earliest), min(last, latest)
    days = (last - first).days + 1
    return [date.fromordinal(first.toordinal() + n) for n in range(max(days, 0))]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _pattern(shown: dict) -> str:
    """The 18 positions the screen shows: a character, or "*" when hidden."""
    pattern = ["*"] * ID_LENGTH
    masked = normalize_id_number(shown.get("masked_id") or "") if shown.get("masked_id") else ""
    if masked and len(masked) == ID_LENGTH:
        pattern = list(masked)
    tail = str(shown.get("id_tail") or "").upper()
    for offset, char in enumerate(reversed(tail)):
        position = ID_LENGTH - 1 - offset
        if pattern[position] not in ("*", char):
            return ""  # contradicts the masked form: nobody has both
        pattern[position] = char
    return "".join(pattern)


def id_candidates(shown: dict, *, county_code: str, gender: str, today: date | None = None) -> int:
    """How many valid ID numbers agree with what is shown together about a person.

    `shown` may hold `masked_id` (the masked form, "*" for hidden characters),
    `id_tail` (a tail the viewer knows, e.g. from a tail search), `birth_date`,
    `birth_year` and `age` (completed years on `today`). The area code is taken
    as known (`county_code`: it follows from the village), and so is `gender`.
    """
    today = today or (timezone.localdate() if settings.USE_TZ else date.today())
    pattern = _pattern(shown)
    if not pattern:
        return 0
    for position, char in enumerate(county_code[:6]):
        if pattern[position] not in ("*", char):
            return 0
    area_sum = sum(_CHECK_WEIGHTS[i] * int(county_code[i]) for i in range(6))
    # For each residue of the first 14 digits' weighted sum: how many sequences
    # (gender's parity, agreeing with the shown positions 15–17) give a check
    # character that agrees with position 18.
    sequences = [
        seq
        for seq in range(1000)
        if seq % 2 == (1 if gender == "male" else 0)
        and all(pattern[14 + i] in ("*", digit) for i, digit in enumerate(f"{seq:03d}"))
    ]
    per_residue = []
    for residue in range(11):
        per_residue.append(
            sum(
                1
                for seq in sequences
                if pattern[17] == "*"
                or _check_char(
                    residue
                    + sum(_CHECK_WEIGHTS[14 + i] * int(d) for i, d in enumerate(f"{seq:03d}"))
                )
                == pattern[17]
            )
        )
    total = 0
    for birth in _birth_dates(shown, today):
        digits = f"{birth:%Y%m%d}"
        if any(pattern[6 + i] not in ("*", d) for i, d in enumerate(digits)):
            continue
        residue = (
            area_sum + sum(_CHECK_WEIGHTS[6 + i] * int(d) for i, d in enumerate(digits))
        ) % 11
        total += per_residue[residue]
    return total


# --- encryption at rest -----------------------------------------------------


class DecryptionError(Exception):
    """No key in FIELD_ENCRYPTION_KEYS opens the token."""


def _configured_keys() -> tuple[str, ...]:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if isinstance(keys, str):
        keys = keys.split(",")
    return tuple(str(key).strip() for key in keys if str(key).strip())


@lru_cache(maxsize=4)
def _build_multifernet(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: set it to one or more Fernet keys, newest first "
            "(generate one with cryptography.fernet.Fernet.generate_key())"
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key #{position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; generate one with "
                "cryptography.fernet.Fernet.generate_key())"
            ) from exc
    return MultiFernet(fernets), fernets[0]


def _fernets() -> tuple[MultiFernet, Fernet]:
    # Keyed by the settings value, so override_settings / key rotation take
    # effect without a restart of the cache.
    return _build_multifernet(_configured_keys())


def store_id_number(obj, number: str) -> bool:
    """Put a valid ID number on `obj` (a person, a volunteer: any model with
    `id_number_hash` and `id_number_encrypted`) as its keyed hash and its ciphertext, never
    in clear. True when it differs from the number already stored."""
    digest = id_hash(number)
    if obj.id_number_hash == digest:
        return False
    obj.id_number_hash = digest
    obj.id_number_encrypted = encrypt(number)
    return True


def encrypt(plain: str) -> str:
    """Encrypt with the first key. Randomised: the same input gives a new token
    each time (compare with `id_hash`, never with tokens). "" stays ""."""
    if not isinstance(plain, str):
        raise TypeError("encrypt() takes a str")
    if plain == "":
        return ""
    multi, _primary = _fernets()
    return multi.encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key opens the token. "" stays ""."""
    if not token:
        return ""
    multi, _primary = _fernets()
    try:
        return multi.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "No key in FIELD_ENCRYPTION_KEYS decrypts this value: check that the key it was "
            "encrypted with is still listed in FIELD_ENCRYPTION_KEYS (older keys must stay "
            "until every value has been rotated)"
        ) from exc


def needs_rotation(token: str) -> bool:
    """True when the token was not encrypted with the first (current) key."""
    if not token:
        return False
    _multi, primary = _fernets()
    try:
        primary.decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return True
    return False


def rotate(token: str) -> str:
    """Re-encrypt under the first key, so that older keys can be dropped."""
    if not token:
        return ""
    multi, _primary = _fernets()
    try:
        return multi.rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "No key in FIELD_ENCRYPTION_KEYS decrypts this value, so it cannot be rotated: "
            "check FIELD_ENCRYPTION_KEYS"
        ) from exc


# --- phones -----------------------------------------------------------------

_MOBILE_LENGTH = 11
# 0 + a 3-digit area code + 8 digits is the longest national number; past a
# country prefix's worth more, the cell holds two numbers run together.
_MAX_SINGLE_NUMBER_DIGITS = 16
_MULTIPLE_SEPARATORS_RE = re.compile(r"[/,;|、]|或|和")
_EXTENSION_RE = re.compile(r"转|分机|EXT", re.IGNORECASE)
# Separators people type between digit groups; anything else (letters above
# all: phonenumbers reads them as keypad digits) makes the value unrecognised.
_PHONE_CHARS_RE = re.compile(r"^\+?[\d\-().]*$")
_MOBILE_RE = re.compile(r"^1\d{10}$")
_LANDLINE_RE = re.compile(r"^(0\d{2,3})-(\d{7,8})$")


def _phone_error(message: str, code: str, **params: object) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _phone_text(raw: object) -> str:
    if raw is None or _is_blank_number(raw):
        return ""
    if isinstance(raw, bool):
        raise _phone_error(_("无法识别的电话号码"), "phone_invalid")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float | Decimal):
        # An Excel number cell: 13812345678.0, or 3591234567.0 (the leading 0
        # of a landline already gone; phonenumbers still recognises it).
        whole = _whole_number(raw)
        if whole is None:
            raise _phone_error(_("无法识别的电话号码"), "phone_invalid")
        return str(whole)
    text = _clean_text(str(raw))
    whole = _WHOLE_FLOAT_RE.match(text)
    return whole.group(1) if whole else text


def _national_digits(text: str) -> str:
    """The digits after any +86 / 0086 prefix (for choosing a message)."""
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") and digits.startswith("86"):
        return digits[2:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def _invalid_phone_error(text: str) -> ValidationError:
    digits = _national_digits(text)
    if len(digits) > _MAX_SINGLE_NUMBER_DIGITS:
        return _phone_error(_("号码位数过多，一次只能填写一个电话号码"), "phone_multiple")
    if digits.startswith("1"):
        if len(digits) != _MOBILE_LENGTH:
            return _phone_error(
                _("手机号码应为11位，当前为%(length)d位"), "phone_mobile_length", length=len(digits)
            )
        return _phone_error(_("无法识别的手机号码，请核对号段"), "phone_mobile_invalid")
    if digits.startswith("0"):
        return _phone_error(
            _("无法识别的固定电话号码：应为区号加7~8位号码，如 0359-1234567"),
            "phone_landline_invalid",
        )
    if 7 <= len(digits) <= 8:
        return _phone_error(_("固定电话请加区号，如 0359-1234567"), "phone_landline_no_area_code")
    return _phone_error(_("无法识别的电话号码"), "phone_invalid")


def normalize_phone(raw: object) -> str:
    """Return 13812345678 for a mobile, 0359-1234567 for a landline, "" for blank.

    Mainland China only; raises a Chinese ValidationError otherwise.
    """
    text = _phone_text(raw)
    if not text:
        return ""
    if _MULTIPLE_SEPARATORS_RE.search(text):
        raise _phone_error(_("一次只能填写一个电话号码，多个号码请分别填写"), "phone_multiple")
    if _EXTENSION_RE.search(text):
        raise _phone_error(_("不支持分机号，请只填写电话号码"), "phone_extension")
    if not _PHONE_CHARS_RE.match(text):
        raise _phone_error(_("无法识别的电话号码"), "phone_invalid")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise _invalid_phone_error(text) from None
    if number.country_code != 86:
        raise _phone_error(_("只支持中国大陆的手机号码或固定电话"), "phone_not_mainland")
    if not phonenumbers.is_valid_number(number):
        raise _invalid_phone_error(text)
    national = phonenumbers.national_significant_number(number)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.MOBILE:
        return national
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        area_length = phonenumbers.length_of_geographical_area_code(number)
        if area_length:
            return f"0{national[:area_length]}-{national[area_length:]}"
    raise _phone_error(
        _("请填写手机号码或固定电话，不支持400、800等服务号码"), "phone_service_number"
    )


def mask_phone(phone: object) -> str:
    """Mask as 138****5678 (mobile) or 0359-***4567 (landline)."""
    try:
        text = normalize_phone(phone)
    except ValidationError:
        # Not a phone we understand: show no more than its last four digits.
        digits = re.sub(r"\D", "", _clean_text(str(phone)))
        return "*" * len(digits) if len(digits) <= 7 else f"{'*' * (len(digits) - 4)}{digits[-4:]}"
    if _MOBILE_RE.match(text):
        return f"{text[:3]}****{text[-4:]}"
    landline = _LANDLINE_RE.match(text)
    if landline:
        area, local = landline.groups()
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return text


def phone_tail(phone: object, n: int = 4) -> str:
    """The last n digits, for search tokens ("尾号5678")."""
    if n <= 0:
        return ""
    try:
        text = normalize_phone(phone)
    except ValidationError:
        # A partial number typed into a search box is still worth its tail.
        text = _clean_text(str(phone))
    return re.sub(r"\D", "", text)[-n:]
