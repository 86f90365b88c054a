""" "Did you mean …" from a vocabulary: the closest known word, the commoner on a tie, the rest of the query kept."""

from __future__ import annotations

from archive.search.spelling import did_you_mean

VOCABULARY = {"illegally": 3, "illegal": 1, "police": 9, "policy": 4, "grocery": 2, "store": 5, "café": 1, "jose": 1}


def test_an_unknown_word_becomes_the_closest_known_one() -> None:
    assert did_you_mean("illegaly", VOCABULARY) == "illegally"
    assert did_you_mean("grocry store", VOCABULARY) == "grocery store"
    assert did_you_mean('"grocry store" -polise', VOCABULARY) == '"grocery store" -police'  # police: 9 > policy: 4


def test_known_words_fields_operators_and_far_words_are_left_alone() -> None:
    assert did_you_mean("police", VOCABULARY) is None
    assert did_you_mean("speaker:rosa kind:testimony", VOCABULARY) is None
    assert did_you_mean("police AND policy OR store", VOCABULARY) is None
    assert did_you_mean("xylophone", VOCABULARY) is None  # nothing within two edits
    assert did_you_mean("polic* 2024", VOCABULARY) is None  # prefixes and numbers are the person's own
    assert did_you_mean("José", VOCABULARY) is None  # accents fold as the index folds them
    assert did_you_mean("illegaly", {}) is None
