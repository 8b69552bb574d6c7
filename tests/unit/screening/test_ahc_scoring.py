"""AHC HRSN scoring: which answers make which need, and refusals naming the question."""

from __future__ import annotations

import pytest

from carenet.errors import InvalidInput
from carenet.screening import ahc

SAFETY = ("95618-5", "95617-7", "95616-9", "95615-1")
POINTS = {1: "LA6270-8", 2: "LA10066-1", 3: "LA10082-8", 4: "LA16644-9", 5: "LA6482-9"}


def test_a_negative_screening_makes_no_needs():
    result = ahc.score(
        {
            "71802-3": "LA31993-1",
            "88122-7": "LA28398-8",
            "88123-5": "LA28398-8",
            "93030-5": "LA32-8",
            "96779-4": "LA32-8",
            "96778-6": ["LA9-3"],
        }
    )
    assert result.needs == ()


@pytest.mark.parametrize(
    ("answers", "need"),
    [
        ({"71802-3": "LA31994-9"}, "housing-instability"),
        ({"71802-3": "LA31995-6"}, "homelessness"),
        ({"96778-6": ["LA28580-1", "LA31996-4"]}, "inadequate-housing"),
        ({"88122-7": "LA6729-3", "88123-5": "LA28398-8"}, "food-insecurity"),
        ({"88122-7": "LA28398-8", "88123-5": "LA28397-0"}, "food-insecurity"),
        ({"93030-5": "LA33-6"}, "transportation-insecurity"),
        ({"96779-4": "LA33-6"}, "utility-insecurity"),
        ({"96779-4": "LA32002-0"}, "utility-insecurity"),
    ],
)
def test_each_positive_answer_becomes_its_sdoh_need(answers, need):
    assert ahc.score(answers).needs == (need,)


def test_food_is_negative_when_both_items_are_never_true():
    assert ahc.score({"88122-7": "LA28398-8", "88123-5": "LA28398-8"}).needs == ()


@pytest.mark.parametrize(
    ("points", "positive"),
    [((3, 3, 2, 2), False), ((3, 3, 3, 2), True), ((1, 1, 1, 1), False), ((5, 5, 1, 1), True)],
)
def test_safety_is_positive_only_when_the_sum_is_over_ten(points, positive):
    answers = {code: POINTS[p] for code, p in zip(SAFETY, points, strict=True)}
    result = ahc.score(answers)
    assert result.safety_score == sum(points)
    assert ("intimate-partner-violence" in result.needs) is positive


def test_several_domains_at_once_in_question_order():
    result = ahc.score({"93030-5": "LA33-6", "71802-3": "LA31995-6", "88122-7": "LA28397-0"})
    assert result.needs == ("homelessness", "food-insecurity", "transportation-insecurity")


def test_unknown_questions_and_answers_are_refused_by_loinc_code():
    with pytest.raises(InvalidInput) as refused:
        ahc.score({"12345-6": "LA33-6", "93030-5": "LA99-9", "71802-3": ["LA31993-1", "x"]})
    assert set(refused.value.errors) == {"12345-6", "93030-5", "71802-3"}


def test_an_empty_screening_is_refused():
    with pytest.raises(InvalidInput):
        ahc.score({"93030-5": ""})
