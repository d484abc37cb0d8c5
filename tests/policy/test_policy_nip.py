"""NIP validation: 18 digits that encode birth date, appointment, sex and sequence."""
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError, Kind
from chalicelib.policy import NipInfo, validate_nip


def problems(s, **kw):
    with pytest.raises(HadirError) as e:
        validate_nip(s, **kw)
    assert e.value.code == "invalid_nip" and e.value.kind == Kind.INVALID
    return e.value.details["problems"]


def test_the_documented_example_decodes():
    # Given the NIP from the domain notes, When validated
    info = validate_nip("198503302010011001")
    # Then it is a man born 30 March 1985, appointed January 2010, sequence 1
    assert info == NipInfo("198503302010011001", date(1985, 3, 30), (2010, 1), "male", 1)
    assert info.to_dict()["birth_date"] == "1985-03-30"


def test_a_printed_nip_with_spaces_is_accepted():
    # Given a NIP as printed on a decree: "19801230 201001 2 005"
    info = validate_nip("19801230 201001 2 005")
    assert (info.nip, info.sex, info.sequence) == ("198012302010012005", "female", 5)


@pytest.mark.parametrize("s", ["", "19850330201001100", "1985033020100110011",
                               "19850330201001100A", "１９８５０３３０２０１００１１００１",
                               None, 198503302010011001])
def test_wrong_length_or_characters(s):
    assert problems(s) == ["not_18_digits"]


@pytest.mark.parametrize("s, expected", [
    ("198502302010011001", ["invalid_birth_date"]),           # 30 February
    ("189903302010011001", ["invalid_birth_date"]),           # before 1900
    ("198503302010131001", ["invalid_appointment_month"]),
    ("198503302010001001", ["invalid_appointment_month"]),
    ("198503302010013001", ["invalid_sex_digit"]),
    ("198503302010011000", ["invalid_sequence"]),
    ("198503302003021001", ["appointed_before_age_18"]),       # a month before turning 18
    ("198503301999011001", ["appointed_before_age_18"]),
    ("198502312010130000", ["invalid_birth_date", "invalid_appointment_month",
                            "invalid_sex_digit", "invalid_sequence"]),
])
def test_each_problem_is_named(s, expected):
    assert problems(s) == expected


def test_appointed_in_the_month_of_turning_18_is_fine():
    # Given someone born March 1985 and appointed March 2003, Then the NIP is valid
    assert validate_nip("198503302003031001").appointment == (2003, 3)


def test_future_dates_are_caught_when_today_is_given():
    assert problems("203001012050011001", today=date(2025, 3, 3)) == [
        "birth_date_in_future", "appointment_in_future"]


def test_pppk_number_is_accepted_only_when_allowed():
    # Given an NI PPPK whose digits 13-14 count work agreements ("21"), not a month
    s = "199203142023212028"
    assert problems(s) == ["invalid_appointment_month"]
    info = validate_nip(s, allow_pppk=True)
    assert (info.employment, info.appointment, info.sex) == ("PPPK", (2023, None), "female")


@settings(max_examples=60, deadline=None)
@given(birth=st.dates(date(1950, 1, 1), date(2006, 12, 31)), years_after=st.integers(18, 40),
       month=st.integers(1, 12), sex=st.sampled_from("12"), seq=st.integers(1, 999))
def test_any_well_formed_nip_decodes_to_what_was_encoded(birth, years_after, month, sex, seq):
    # Given a NIP built from a birth date, an appointment at 18+ years, a sex digit and sequence
    year = birth.year + years_after + (1 if month < birth.month and years_after == 18 else 0)
    s = f"{birth:%Y%m%d}{year:04d}{month:02d}{sex}{seq:03d}"
    # When validated, Then every part reads back
    info = validate_nip(s)
    assert (info.birth_date, info.appointment, info.sequence) == (birth, (year, month), seq)
    assert info.sex == {"1": "male", "2": "female"}[sex]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789 ", max_size=25))
def test_validation_either_decodes_or_raises_invalid_nip(s):
    # Given any string of digits and spaces, Then validate_nip never fails any other way
    try:
        info = validate_nip(s)
    except HadirError as e:
        assert e.code == "invalid_nip" and e.details["problems"]
    else:
        assert len(info.nip) == 18
