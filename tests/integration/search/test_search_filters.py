"""Filters, alone and combined: category, text, language, free, age, accepting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories import MIAMI, IndexedServiceFactory, weekly

from search.places import point_at


@pytest.fixture
def directory(app_ctx):
    IndexedServiceFactory(
        name="Rides to dialysis",
        locations=[point_at(MIAMI, 1)],
        categories=("transportation",),
        description="Door to door rides for kidney patients",
        free=True,
        languages=("en", "es"),
        minimum_age=18,
    )
    IndexedServiceFactory(
        name="Hot meals",
        locations=[point_at(MIAMI, 2)],
        categories=("meal-delivery",),
        description="Daily hot lunches delivered",
        capacity_status="no-capacity",
        minimum_age=60,
    )
    IndexedServiceFactory(
        name="Caregiver circle",
        locations=[point_at(MIAMI, 3)],
        categories=("support-groups", "in-home-help"),
        description="Peer support for family caregivers",
        free=True,
        languages=("en",),
        schedules=(weekly("WE", "18:00", "20:00"),),
    )
    IndexedServiceFactory(
        name="Teen group",
        locations=[point_at(MIAMI, 4)],
        categories=("support-groups",),
        maximum_age=17,
        languages=("es",),
        capacity_status="waitlist",
    )


def names(search, **kw):
    page = search(lat=MIAMI[0], lon=MIAMI[1], **kw)
    return [r["service"]["name"] for r in page.contents]


def test_no_filter_lists_every_service_once(search, directory):
    assert names(search) == ["Rides to dialysis", "Hot meals", "Caregiver circle", "Teen group"]


def test_one_category(search, directory):
    assert names(search, categories=("support-groups",)) == ["Caregiver circle", "Teen group"]


def test_several_categories_match_any_and_list_each_service_once(search, directory):
    assert names(search, categories=("in-home-help", "support-groups")) == [
        "Caregiver circle", "Teen group"]  # fmt: skip
    assert names(search, categories=("transportation", "meal-delivery")) == [
        "Rides to dialysis", "Hot meals"]  # fmt: skip


def test_free_text_uses_stemmed_words(search, directory):
    assert names(search, q="caregivers") == ["Caregiver circle"]
    assert names(search, q="ride kidney") == ["Rides to dialysis"]
    assert names(search, q="lunch delivery") == ["Hot meals"]
    assert names(search, q="nothing-like-this") == []


def test_free_text_with_fts_syntax_is_taken_as_words(search, directory):
    assert names(search, q='"hot" OR meals*') == ["Hot meals"]  # words, not operators
    assert names(search, q="hot NEAR(rides)") == []
    assert names(search, q="meals)") == ["Hot meals"]


def test_language(search, directory):
    assert names(search, language="es") == ["Rides to dialysis", "Teen group"]


def test_free(search, directory):
    assert names(search, free=True) == ["Rides to dialysis", "Caregiver circle"]


def test_age(search, directory):
    assert names(search, age=15) == ["Caregiver circle", "Teen group"]
    assert names(search, age=70) == ["Rides to dialysis", "Hot meals", "Caregiver circle"]


def test_accepting_means_capacity(search, directory):
    assert names(search, accepting=True) == ["Rides to dialysis", "Caregiver circle"]


def test_open_now_filter(search, directory):
    wednesday_evening = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 18:30 EST
    assert names(search, open_now=True, now=wednesday_evening) == ["Caregiver circle"]


def test_filters_combine(search, directory):
    assert names(search, categories=("support-groups",), free=True, language="en", age=40,
                 accepting=True, q="family") == ["Caregiver circle"]  # fmt: skip
    assert names(search, categories=("support-groups",), free=True, language="es") == []
    assert names(search, free=True, age=10) == ["Caregiver circle"]


def test_a_category_with_no_services_yet_finds_nothing(search, directory):
    assert names(search, categories=("housing",)) == []


def test_an_unknown_category_is_invalid_input(search, directory):
    from carenet.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        search(lat=MIAMI[0], lon=MIAMI[1], categories=("teleportation",))
    assert "category" in caught.value.errors
