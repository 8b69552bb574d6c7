"""The 211 data's mangled punctuation is repaired on import."""

from __future__ import annotations

from carenet.directory.hsds.legacy import repair_text


def test_mangled_punctuation_becomes_the_intended_characters():
    assert repair_text("PPEC GÇö Prescribed") == "PPEC \u2014 Prescribed"
    assert repair_text("Children GÇÖs Rehab") == "Children \u2019s Rehab"
    assert repair_text("GÇ£quotedGÇ¥") == "\u201cquoted\u201d"


def test_literal_backslash_n_becomes_a_line_break_and_clean_text_is_untouched():
    assert repair_text("line one\\nline two") == "line one\nline two"
    assert repair_text("Plain text, G Street") == "Plain text, G Street"
