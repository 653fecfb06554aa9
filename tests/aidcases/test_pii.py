"""ID numbers and phones (aidcases/pii.py). No database: pure functions and settings."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured, ValidationError
from faker import Faker
from stdnum.cn import ric

from aidcases.pii import (
    DecryptionError,
    IdInfo,
    decrypt,
    encrypt,
    id_hash,
    mask_id_number,
    mask_phone,
    needs_rotation,
    normalize_id_number,
    normalize_phone,
    parse_id_number,
    phone_tail,
    rotate,
    tail_token,
)

TODAY = date(2026, 8, 5)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def with_check_digit(first17: str) -> str:
    """A valid 18-character number. stdnum's calc_check_digit reads all 18
    characters and ignores the last, so give it a placeholder."""
    assert len(first17) == 17
    return first17 + ric.calc_check_digit(first17 + "0")


def wrong_check_digit(number: str) -> str:
    good = number[-1]
    return number[:-1] + ("1" if good != "1" else "2")


# Demo county 青山县 (149901) is fictional; 140822 is 万荣县 (山西).
DEMO_CHILD = with_check_digit("14990120150301123")  # born 2015-03-01, 17th digit 3: male
WANRONG_GIRL = with_check_digit("14082220120618002")  # born 2012-06-18, 17th digit 2: female


def rejection(raw: object, **kwargs: object) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        parse_id_number(raw, today=TODAY, **kwargs)
    return excinfo.value


@pytest.fixture
def fake() -> Faker:
    faker = Faker("zh_CN")
    faker.seed_instance(20260805)
    return faker


# --- parsing and validation -------------------------------------------------


def test_numbers_made_by_faker_parse_with_their_birth_date_and_gender(fake):
    for _ in range(300):
        gender = fake.random_element(["M", "F"])
        number = fake.ssn(min_age=1, max_age=17, gender=gender)

        info = parse_id_number(number)

        assert info.number == number
        assert info.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert info.gender == ("male" if gender == "M" else "female")
        assert info.area_code == number[:6]


def test_it_derives_birth_date_gender_and_area_from_a_hand_made_number():
    info = parse_id_number(WANRONG_GIRL, today=TODAY)

    assert info == IdInfo(
        number=WANRONG_GIRL,
        birth_date=date(2012, 6, 18),
        gender="female",
        area_code="140822",
        area_known=True,
    )


def test_odd_17th_digit_is_male_and_even_is_female():
    assert parse_id_number(with_check_digit("11010520100101019"), today=TODAY).gender == "male"
    assert parse_id_number(with_check_digit("11010520100101028"), today=TODAY).gender == "female"


def test_id_info_is_frozen():
    info = parse_id_number(DEMO_CHILD, today=TODAY)
    with pytest.raises(AttributeError):
        info.number = WANRONG_GIRL  # type: ignore[misc]


def test_full_width_digits_and_x_are_accepted():
    number = with_check_digit("11010520100101007")
    assert number.endswith("X")

    assert parse_id_number(number.translate(FULL_WIDTH), today=TODAY).number == number
    assert parse_id_number(number[:-1] + "ｘ", today=TODAY).number == number


def test_lowercase_x_is_read_as_x():
    number = with_check_digit("11010520100101007")

    assert normalize_id_number(number.lower()) == number
    assert parse_id_number(number.lower(), today=TODAY).number == number


@pytest.mark.parametrize(
    "space",
    [" ", "\u3000", "\u00a0", "\u200b", "\ufeff", "\t", "\n"],
    ids=["space", "ideographic", "nbsp", "zero-width", "bom", "tab", "newline"],
)
def test_every_kind_of_space_is_removed(space):
    raw = f"{space}{DEMO_CHILD[:6]}{space}{DEMO_CHILD[6:14]}{space}{DEMO_CHILD[14:]}{space}"

    assert normalize_id_number(raw) == DEMO_CHILD


@pytest.mark.parametrize("quote", ["'", "＇", "‘"])
def test_excel_text_marker_apostrophe_is_stripped(quote):
    assert parse_id_number(quote + DEMO_CHILD, today=TODAY).number == DEMO_CHILD


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", float("nan")])
def test_blank_normalises_to_empty_and_parse_asks_for_a_number(blank):
    assert normalize_id_number(blank) == ""
    assert rejection(blank).code == "id_empty"


def test_bad_checksum_is_rejected():
    error = rejection(wrong_check_digit(DEMO_CHILD))

    assert error.code == "id_checksum"
    assert "校验位错误" in error.messages[0]


@pytest.mark.parametrize("length", [17, 19])
def test_wrong_length_says_how_long_it_is(length):
    raw = (DEMO_CHILD + "1")[:length]

    error = rejection(raw)

    assert error.code == "id_length"
    assert error.messages == [f"身份证号码应为18位，当前为{length}位"]


def test_old_15_digit_number_asks_for_the_18_digit_one():
    error = rejection("140822120618002")

    assert error.code == "id_old_15"
    assert "15位" in error.messages[0] and "18位" in error.messages[0]


@pytest.mark.parametrize("raw", ["14082220120618002Y", "1408222012O618002X", "140822-20120618-00"])
def test_letters_and_punctuation_are_rejected_as_format_errors(raw):
    assert rejection(raw).code == "id_format"


def test_future_birth_date_is_rejected():
    tomorrow = with_check_digit("14082220260806001")

    error = rejection(tomorrow)

    assert error.code == "id_birth_future"


def test_baby_born_today_is_accepted():
    born_today = with_check_digit("14082220260805001")

    assert parse_id_number(born_today, today=TODAY).birth_date == TODAY


def test_future_is_judged_against_today_in_china_by_default():
    far_future = with_check_digit("14082230000101001")

    with pytest.raises(ValidationError) as excinfo:
        parse_id_number(far_future)
    assert excinfo.value.code == "id_birth_future"


def test_birth_before_1900_is_rejected():
    assert rejection(with_check_digit("14082218991231001")).code == "id_birth_too_early"


@pytest.mark.parametrize("yyyymmdd", ["20150230", "20110229", "20151301", "20150100"])
def test_impossible_birth_date_is_rejected(yyyymmdd):
    error = rejection(with_check_digit(f"140822{yyyymmdd}001"))

    assert error.code == "id_birth_date"
    assert "出生日期" in error.messages[0]


def test_leap_day_is_a_real_birth_date():
    assert parse_id_number(with_check_digit("14082220120229001"), today=TODAY).birth_date == date(
        2012, 2, 29
    )


@pytest.mark.parametrize(
    "first17",
    [
        "14990120150301123",  # our fictional demo county: stdnum 2.2 raises KeyError here
        "99999920150301123",  # no such province
        "14082219900101123",  # 万荣县 got 140822 in 2000; stdnum checks the birth year
    ],
)
def test_unknown_area_code_parses_with_area_unknown(first17):
    info = parse_id_number(with_check_digit(first17), today=TODAY)

    assert info.area_known is False
    assert info.area_code == first17[:6]


def test_known_area_code_is_marked_known():
    assert parse_id_number(with_check_digit("11010520100101007"), today=TODAY).area_known


@pytest.mark.parametrize(
    "from_excel",
    [
        1.40822199001011e17,
        "1.40822199001011E+17",
        "1.40822199001011e17",
        Decimal("140822199001011000"),
        140822199001011000,
        "140822199001011000.0",
    ],
    ids=["float", "scientific-text", "scientific-lower", "decimal", "int-zero-tail", "float-text"],
)
def test_number_stored_as_an_excel_number_is_explained_not_guessed(from_excel):
    error = rejection(from_excel)

    assert error.code == "id_excel_number"
    assert error.messages == [
        "身份证号码被Excel存成了数字，后几位已丢失，请把该列设为文本后重新填写"
    ]


def test_a_whole_integer_that_kept_its_digits_is_accepted():
    number = with_check_digit("14082220120618001")
    assert number[-1] != "X"

    assert parse_id_number(int(number), today=TODAY).number == number


def test_old_15_digit_number_from_an_excel_number_cell_gets_the_old_number_message():
    assert rejection(140822120618002.0).code == "id_old_15"


def test_error_messages_never_repeat_the_number():
    for raw in [wrong_check_digit(DEMO_CHILD), DEMO_CHILD[:17], "14082220150230001"]:
        error = rejection(raw)
        assert DEMO_CHILD[:14] not in error.messages[0]


# --- masking and search -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("14082220120618123X", "140822**********3X"),
        ("14082220120618123x", "140822**********3X"),
        (" 140822 20120618 123X ", "140822**********3X"),
        ("140822120618002", "140822*******02"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
        (1.40822199001011e17, "********"),
    ],
)
def test_mask_id_number_shows_area_code_and_last_two_only(raw, masked):
    # Two, not four: beside a birth year four would leave ~33 numbers (pii.id_candidates).
    assert mask_id_number(raw) == masked


def test_mask_id_number_beside_a_full_birth_date_shows_no_tail():
    assert mask_id_number("14082220120618123X", tail=0) == "140822************"


def test_tail_tokens_are_keyed_hashes_by_kind(settings):
    token = tail_token("id", "123x")
    assert token == tail_token("id", "123X") and "123" not in token
    assert token != tail_token("phone", "123X")
    settings.ID_HASH_KEY = "another-key"
    assert tail_token("id", "123X") != token


# --- encryption and the lookup hash -----------------------------------------


@pytest.fixture
def keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    settings.ID_HASH_KEY = "test-id-hash-key"
    return {"old": old, "new": new}


def test_encrypt_then_decrypt_gives_the_number_back(keys):
    assert decrypt(encrypt(DEMO_CHILD)) == DEMO_CHILD


def test_ciphertext_does_not_contain_the_number(keys):
    token = encrypt(DEMO_CHILD)

    assert DEMO_CHILD not in token
    assert DEMO_CHILD[-4:] not in token
    assert DEMO_CHILD.encode() not in base64.urlsafe_b64decode(token)


def test_encrypting_twice_gives_different_tokens_but_the_same_hash(keys):
    assert encrypt(DEMO_CHILD) != encrypt(DEMO_CHILD)
    assert id_hash(DEMO_CHILD) == id_hash(DEMO_CHILD)


def test_hash_finds_the_number_however_it_was_typed(keys):
    number = with_check_digit("11010520100101007")

    assert (
        id_hash(number)
        == id_hash(f"'{number.lower()}\u3000")
        == id_hash(number.translate(FULL_WIDTH))
    )


def test_hash_is_a_keyed_hex_digest_not_a_plain_sha256(keys):
    digest = id_hash(DEMO_CHILD)

    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != hashlib.sha256(DEMO_CHILD.encode()).hexdigest()


def test_hash_changes_with_id_hash_key(keys, settings):
    before = id_hash(DEMO_CHILD)
    settings.ID_HASH_KEY = "another-key"

    assert id_hash(DEMO_CHILD) != before


def test_hash_of_nothing_is_refused(keys):
    with pytest.raises(ValueError, match="non-empty"):
        id_hash("  ")


def test_missing_hash_key_is_a_configuration_error(keys, settings):
    settings.ID_HASH_KEY = ""

    with pytest.raises(ImproperlyConfigured, match="ID_HASH_KEY"):
        id_hash(DEMO_CHILD)


def test_empty_stays_empty_through_encryption(keys):
    assert encrypt("") == ""
    assert decrypt("") == ""
    assert rotate("") == ""
    assert needs_rotation("") is False


def test_old_data_still_decrypts_after_a_new_key_is_put_first(keys, settings):
    token = encrypt(DEMO_CHILD)

    settings.FIELD_ENCRYPTION_KEYS = [keys["new"], keys["old"]]

    assert decrypt(token) == DEMO_CHILD
    assert needs_rotation(token)
    assert not needs_rotation(encrypt(DEMO_CHILD))


def test_rotate_reencrypts_under_the_new_key_so_the_old_one_can_go(keys, settings):
    token = encrypt(DEMO_CHILD)
    settings.FIELD_ENCRYPTION_KEYS = [keys["new"], keys["old"]]

    rotated = rotate(token)

    assert rotated != token
    assert not needs_rotation(rotated)
    settings.FIELD_ENCRYPTION_KEYS = [keys["new"]]
    assert decrypt(rotated) == DEMO_CHILD
    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEYS"):
        decrypt(token)


def test_token_no_key_opens_raises_decryption_error_naming_the_setting(keys):
    with pytest.raises(DecryptionError, match="FIELD_ENCRYPTION_KEYS"):
        decrypt("not-a-fernet-token")


def test_keys_may_be_given_as_a_comma_separated_string(keys, settings):
    token = encrypt(DEMO_CHILD)
    settings.FIELD_ENCRYPTION_KEYS = f"{keys['new']}, {keys['old']}"

    assert decrypt(token) == DEMO_CHILD


@pytest.mark.parametrize("bad", [[], ["not-a-key"], ["", "  "]], ids=["none", "garbage", "blank"])
def test_invalid_key_setting_is_a_configuration_error(settings, bad):
    settings.FIELD_ENCRYPTION_KEYS = bad

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        encrypt(DEMO_CHILD)


def test_a_bad_second_key_is_reported_by_position(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "oops"]

    with pytest.raises(ImproperlyConfigured, match="key #2"):
        encrypt(DEMO_CHILD)


# --- phones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("'13812345678", "13812345678"),
        ("\u300013812345678\u200b", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("13812345678.0", "13812345678"),
        ("19912345678", "19912345678"),
        ("0359-1234567", "0359-1234567"),
        ("03591234567", "0359-1234567"),
        ("(0359)1234567", "0359-1234567"),
        ("（0359）1234567", "0359-1234567"),
        ("0359 123 4567", "0359-1234567"),
        ("0359—1234567", "0359-1234567"),
        ("+86 359 1234567", "0359-1234567"),
        (3591234567.0, "0359-1234567"),  # Excel dropped the leading 0
        ("010-12345678", "010-12345678"),
        ("01012345678", "010-12345678"),
        ("021 8765 4321", "021-87654321"),
        ("", ""),
        ("  ", ""),
        (None, ""),
    ],
)
def test_normalize_phone(raw, normalized):
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize(
    ("raw", "code", "message_part"),
    [
        ("1381234567", "phone_mobile_length", "手机号码应为11位，当前为10位"),
        ("138123456789", "phone_mobile_length", "手机号码应为11位，当前为12位"),
        ("12345678901", "phone_mobile_invalid", "无法识别的手机号码"),
        ("0359-123456", "phone_landline_invalid", "区号"),
        ("0359-12345678", "phone_landline_invalid", "区号"),  # 0359 has 7-digit numbers
        ("2345678", "phone_landline_no_area_code", "请加区号"),
        ("13812345678abc", "phone_invalid", "无法识别的电话号码"),
        ("电话", "phone_invalid", "无法识别的电话号码"),
        (13812345.5, "phone_invalid", "无法识别的电话号码"),
        ("13812345678/13987654321", "phone_multiple", "一次只能填写一个"),
        ("13812345678，13987654321", "phone_multiple", "一次只能填写一个"),
        ("13812345678 13987654321", "phone_multiple", "一次只能填写一个"),
        ("0359-1234567转801", "phone_extension", "分机"),
        ("+1 650 253 0000", "phone_not_mainland", "中国大陆"),
        ("+852 9123 4567", "phone_not_mainland", "中国大陆"),
        ("400-810-8888", "phone_service_number", "400"),
    ],
)
def test_invalid_phones_are_rejected_in_chinese(raw, code, message_part):
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(raw)

    assert excinfo.value.code == code
    assert message_part in excinfo.value.messages[0]


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("0359-1234567", "0359-***4567"),
        ("010-12345678", "010-****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("", ""),
        ("12345", "*****"),
        ("0359-123456", "******3456"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("phone", "n", "tail"),
    [
        ("13812345678", 4, "5678"),
        ("0359-1234567", 4, "4567"),
        ("13812345678.0", 4, "5678"),
        ("138 1234 5678", 6, "345678"),
        ("５６７８", 4, "5678"),
        ("", 4, ""),
        ("13812345678", 0, ""),
    ],
)
def test_phone_tail_gives_last_digits_for_search(phone, n, tail):
    assert phone_tail(phone, n) == tail


def test_digits_of_other_scripts_are_not_taken_for_ascii_digits():
    arabic_indic = DEMO_CHILD[:-2].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert rejection(arabic_indic + DEMO_CHILD[-2:]).code == "id_format"
