"""The language filter by name (the languages the directory offers), the search page's
extra details (hours in words, eligibility, last verified, Refer), and no service gap
logged for a search whose language no service offers."""

from __future__ import annotations

from datetime import timedelta

from factories import MIAMI, IndexedServiceFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carenet.db.types import utcnow
from carenet.directory.search.details import (
    directory_languages,
    language_code,
    looks_for_children,
)
from carenet.extensions import db
from search.places import point_at

API = "/api/v1/services/search"


def _gaps() -> int:
    return db.session.execute(db.text("SELECT count(*) FROM search_gap")).scalar()


def _world() -> None:
    IndexedServiceFactory(name="Grupo de apoyo", locations=[point_at(MIAMI, 1)], languages=("es",))
    IndexedServiceFactory(name="Caregiver circle", locations=[point_at(MIAMI, 2)])


def test_the_directory_offers_its_languages_by_name(app_ctx):
    _world()
    assert directory_languages() == [("en", "English"), ("es", "Spanish")]
    offered = directory_languages()
    for typed in ("es", "ES", "Spanish", "spanish", " Span "):
        assert language_code(typed, offered) == "es", typed
    assert language_code("Sp", offered) == "es"  # a unique prefix
    assert language_code("French", offered) is None
    assert language_code("", offered) is None


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=st.text(max_size=60))
def test_any_typed_language_gives_a_code_offered_or_none(typed):
    offered = [("en", "English"), ("es", "Spanish")]
    assert language_code(typed, offered) in (None, "en", "es")


def test_the_page_filters_by_a_language_name(client, app_ctx):
    _world()
    page = client.get("/search", query_string={"near": "33130", "language": "Spanish"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Grupo de apoyo" in html and "Caregiver circle" not in html
    assert '<option value="es" selected>Spanish</option>' in html
    assert "Speaks Spanish" in html


def test_an_unknown_language_is_a_400_naming_it_and_never_a_gap(client, app_ctx):
    _world()
    before = _gaps()
    page = client.get("/search", query_string={"near": "33130", "language": "Klingon"})
    assert page.status_code == 400 and "language" in page.get_data(as_text=True)
    # Through the API a well-formed code that no service offers finds nothing: not a gap.
    found = client.get(API, query_string={"near": "33130", "language": "fr"}).get_json()
    assert found["total_items"] == 0
    assert _gaps() == before
    # A real gap still is one.
    client.get(API, query_string={"near": "33130", "category": "transportation"})
    assert _gaps() == before + 1


def test_results_show_details_and_refer_only_to_coordinators(client, app_ctx):
    stale = IndexedServiceFactory(
        name="Old pantry", locations=[point_at(MIAMI, 1)],
        schedules=[{"byday": "MO,TU,WE,TH,FR"}],
        eligibility_description="Adults 60 and over", minimum_age=60,
        last_verified_at=utcnow() - timedelta(days=800),
    )  # fmt: skip
    html = client.get("/search", query_string={"near": "33130"}).get_data(as_text=True)
    assert "Monday to Friday, 9 AM to 5 PM" in html
    assert "Eligibility: Adults 60 and over" in html and "Ages 60 and over" in html
    assert "may be out of date" in html
    assert "Capacity not known" in html or "Taking new clients" in html
    assert "/referrals/new" not in html  # anonymous: no Refer action
    service_page = client.get(f"/services/{stale.id}").get_data(as_text=True)
    assert "Monday to Friday, 9 AM to 5 PM" in service_page and "may be out of date" in service_page
    assert (
        client.get("/search", query_string={"near": "33130", "age": 10})
        .get_data(as_text=True)
        .count("Old pantry")
        == 0
    )  # a child is not offered a service for those 60 and over


def test_a_service_for_children_is_flagged_to_an_adults_search(client, app_ctx):
    IndexedServiceFactory(name="Kids snack club", locations=[point_at(MIAMI, 1)])
    IndexedServiceFactory(name="Family pantry for children", locations=[point_at(MIAMI, 2)])
    adult = client.get("/search", query_string={"near": "33130", "age": 80}).get_data(as_text=True)
    assert adult.count("Seems to be for children") == 1  # families: not children only
    child = client.get("/search", query_string={"near": "33130", "age": 9}).get_data(as_text=True)
    assert "Seems to be for children" not in child
    assert looks_for_children("Youth mentoring") and not looks_for_children("Grandparents")
    assert not looks_for_children("Raising grandchildren")
