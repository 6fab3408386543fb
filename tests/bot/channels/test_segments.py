"""SMS segmenting: GSM-7 160 alone / 153 per part, UCS-2 70 / 67, split on word boundaries."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.segments import GSM7, UCS2, encoding, segment_count, split_segments, units


@pytest.mark.parametrize("n,segments", [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)])
def test_gsm7_segment_limits(n, segments):
    assert encoding("a" * n) == GSM7
    assert segment_count("a" * n) == segments


@pytest.mark.parametrize("n,segments", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segment_limits(n, segments):
    text = "ł" * n  # ł is not in GSM-7
    assert encoding(text) == UCS2
    assert segment_count(text) == segments


def test_gsm7_extension_characters_take_two_septets():
    assert units("€[]", GSM7) == 6
    assert segment_count("{" * 80) == 1 and segment_count("{" * 81) == 2


def test_one_emoji_makes_the_whole_message_ucs2_and_counts_two_units():
    text = "Your balance is paid " + "\U0001F600"
    assert encoding(text) == UCS2 and units(text) == len(text) + 1


def test_a_short_text_is_not_split():
    assert split_segments("Your balance is $12.00.") == ["Your balance is $12.00."]
    assert split_segments("x" * 160) == ["x" * 160]


def test_long_gsm_text_splits_into_153_septet_parts_on_word_boundaries():
    words = [f"w{i:03d}" for i in range(60)]  # 60 * 5 - 1 = 299 characters
    parts = split_segments(" ".join(words))
    assert len(parts) == 2
    assert all(units(p) <= 153 for p in parts)
    assert " ".join(parts).split(" ") == words


def test_long_ucs2_text_splits_into_67_unit_parts():
    words = ["płatność"] * 20
    parts = split_segments(" ".join(words))
    assert all(units(p, UCS2) <= 67 for p in parts)
    assert " ".join(parts).split(" ") == words


def test_a_word_longer_than_a_segment_is_cut_only_then():
    link = "https://pay.example.org/" + "x" * 200
    parts = split_segments("Pay here: " + link)
    assert all(units(p) <= 153 for p in parts)
    assert parts[0].startswith("Pay here:") and "".join(parts).replace("Pay here:", "", 1) == link


@given(st.lists(st.text(alphabet="abcdefghij€łé😀", min_size=1, max_size=30), min_size=1,
                max_size=40))
def test_parts_always_fit_and_lose_no_words(words):
    text = " ".join(words)
    enc = encoding(text)
    parts = split_segments(text)
    limit = 160 if enc == GSM7 else 70
    if len(parts) > 1:
        limit = 153 if enc == GSM7 else 67
    assert all(units(p, enc) <= limit for p in parts)
    if all(units(w, enc) <= limit for w in words):
        assert " ".join(parts).split(" ") == words
