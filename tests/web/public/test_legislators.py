"""/legislators and GET /api/legislators through Flask's test client: lookups, split towns, escaping, 400s."""

from __future__ import annotations

import pytest

from archive.cli.main import main

TOWNS = (
    "town,chamber,district\n"
    "Burlington,lower,Chittenden-15\n"
    "Burlington,lower,Chittenden-16\n"
    "Burlington,upper,Chittenden Central\n"
)
XSS = "<script>alert(1)</script>"


@pytest.fixture
def site(settings, sessions, runner, app_for, tmp_path):  # type: ignore[no-untyped-def]
    """The Vermont directory with a small towns file, and the site's test client."""
    towns = tmp_path / "towns.csv"
    towns.write_text(TOWNS, encoding="utf-8")
    result = runner.invoke(main, ["legislators", "import", "--towns", str(towns)])
    assert result.exit_code == 0, result.output
    return app_for(settings).test_client()


def test_the_page_offers_towns_and_each_chambers_districts(site) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/legislators")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Find your legislators · Testimony Archive</title>" in html
    assert '<meta name="description" content="Find the state legislators' in html
    assert '<form class="find" action="/legislators" method="get">' in html
    assert '<input id="town" name="town" list="town-names"' in html and '<option value="Burlington">' in html
    assert '<select id="district-house" name="district" required>' in html and "<option>Chittenden-16</option>" in html
    assert '<select id="district-senate" name="district" required>' in html
    assert "<option>Chittenden Central</option>" in html
    assert html.count("<option>") == 109 + 16
    # Nothing preselected: pressing Show without choosing asks for a district rather than showing Addison-1's.
    assert html.count('<option value="">Choose…</option>') == 2 and " selected" not in html
    assert '<a href="/legislators">Your legislators</a>' in html  # in the site's navigation


def test_a_district_shows_its_legislators_with_mailto_links(site) -> None:  # type: ignore[no-untyped-def]
    html = site.get("/legislators", query_string={"chamber": "house", "district": "Chittenden-15"}).get_data(
        as_text=True
    )
    assert "<title>Legislators for Chittenden-15 · Testimony Archive</title>" in html
    assert "Brian Cina" in html and "Troy Headrick" in html and "Independent" in html
    assert '<a href="mailto:bcina@leg.state.vt.us">bcina@leg.state.vt.us</a>' in html
    assert "<option selected>Chittenden-15</option>" in html


def test_a_split_town_asks_the_supporter_to_choose(site) -> None:  # type: ignore[no-untyped-def]
    html = site.get("/legislators", query_string={"town": "burlington"}).get_data(as_text=True)
    assert "Burlington is split between House districts Chittenden-15 and Chittenden-16: choose yours." in html
    assert '<a href="/legislators?town=Burlington&amp;district=Chittenden-15">Chittenden-15</a>' in html
    assert '<a href="/legislators?town=Burlington&amp;district=Chittenden-16">Chittenden-16</a>' in html
    assert "Brian Cina" not in html  # no House member until the supporter chooses
    assert "Phil Baruth" in html  # the Senate district is not in doubt
    chosen = site.get("/legislators?town=Burlington&district=Chittenden-16").get_data(as_text=True)
    assert "Jill Krowinski" in chosen and "Phil Baruth" in chosen and "Brian Cina" not in chosen
    assert "choose yours" not in chosen


def test_an_unknown_town_says_how_to_find_the_district(site) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/legislators", query_string={"town": XSS})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert XSS not in html
    assert "No town named “&lt;script&gt;alert(1)&lt;/script&gt;” in the directory" in html
    assert "choose your district below" in html
    district = site.get("/legislators", query_string={"district": XSS}).get_data(as_text=True)
    assert XSS not in district and "&lt;script&gt;" in district and "choose your district from the list" in district


def test_a_bad_chamber_is_a_400_page(site) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/legislators", query_string={"chamber": "<b>x</b>", "district": "Chittenden-15"})
    assert response.status_code == 400
    assert "chamber must be one of: house, senate" in response.get_data(as_text=True)


def test_the_api_finds_a_towns_legislators(site) -> None:  # type: ignore[no-untyped-def]
    body = site.get("/api/legislators", query_string={"town": "Burlington"}).get_json()
    assert body["query"] == {"town": "Burlington", "districts": [], "chamber": None}
    assert body["candidates"] == [
        {"chamber": "house", "districts": ["Chittenden-15", "Chittenden-16"], "chosen": None, "split": True},
        {"chamber": "senate", "districts": ["Chittenden Central"], "chosen": "Chittenden Central", "split": False},
    ]
    assert {p["name"] for p in body["legislators"]} == {"Martine Gulick", "Phil Baruth", "Tanya Vyhovsky"}
    assert body["legislators"][0].keys() == {"name", "chamber", "district", "party", "email", "phone", "openstates_id"}
    house = site.get("/api/legislators?district=Chittenden-15&chamber=house").get_json()
    assert [p["name"] for p in house["legislators"]] == ["Brian Cina", "Troy Headrick"]
    everyone = site.get("/api/legislators").get_json()
    assert len(everyone["legislators"]) == 180


@pytest.mark.parametrize(
    "query",
    [{"chamber": "lower"}, {"town": "x" * 201}, {"district": "a\nb"}, {"district": ["A", "B", "C"]}],
)
def test_the_api_refuses_bad_parameters(site, query) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/api/legislators", query_string=query)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]


def test_the_api_answers_an_unknown_town_with_an_empty_result(site) -> None:  # type: ignore[no-untyped-def]
    response = site.get("/api/legislators", query_string={"town": XSS})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["legislators"] == [] and body["query"]["town"] == XSS


def test_before_an_import_the_page_says_the_directory_is_not_loaded(settings, sessions, app_for) -> None:  # type: ignore[no-untyped-def]
    client = app_for(settings).test_client()
    html = client.get("/legislators").get_data(as_text=True)
    assert "The legislator directory has not been loaded yet" in html and "<select" not in html
    assert client.get("/api/legislators?town=Burlington").get_json()["towns_available"] is False


@pytest.fixture
def bundled_site(settings, sessions, runner, app_for):  # type: ignore[no-untyped-def]
    """The directory as it ships: Vermont's legislators and towns, imported by the command without arguments."""
    assert runner.invoke(main, ["legislators", "import"]).exit_code == 0
    return app_for(settings).test_client()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_bundled_directory_answers_a_typed_town(bundled_site) -> None:  # type: ignore[no-untyped-def]
    body = bundled_site.get("/api/legislators?town=middlebury").get_json()
    house = [c for c in body["candidates"] if c["chamber"] == "house"]
    assert house == [{"chamber": "house", "districts": ["Addison-1", "Addison-5"], "chosen": None, "split": True}]
    assert {p["district"] for p in body["legislators"]} == {"Addison"}  # the Senate's, while the House waits
    assert body["query"]["town"] == "Middlebury" and body["hint"].startswith("Not sure which district")
    html = bundled_site.get("/legislators?town=middlebury").get_data(as_text=True)
    assert html.count('<ul class="choices">') == 1 and "My Voter Page" in html
    assert '<a href="/legislators?town=Middlebury&amp;district=Addison-5">Addison-5</a>' in html
    cornwall = bundled_site.get("/api/legislators?town=CORNWALL").get_json()
    assert [c["districts"] for c in cornwall["candidates"]] == [["Addison-2"], ["Addison"]]
    typo = bundled_site.get("/legislators?town=Burlingtn").get_data(as_text=True)
    assert "Did you mean Arlington or Burlington?" in typo
    assert '<a href="/legislators?town=Burlington">Burlington</a>' in typo
