"""Content negotiation by Accept (libs/accept.py): qualities, and a page for a browser only."""

from __future__ import annotations

from libs.accept import qualities, wants_page

JSON = ("application/json", "application/ld+json")


def test_qualities_read_q_and_keep_the_highest_of_a_repeated_type() -> None:
    assert qualities("text/html;q=0.5, application/json, TEXT/HTML; q=0.8, x/y;q=bad") == {
        "text/html": 0.8,
        "application/json": 1.0,
        "x/y": 0.0,
    }


def test_a_browser_gets_the_page_and_a_machine_the_data() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert wants_page(browser, JSON)
    assert not wants_page("", JSON) and not wants_page("*/*", JSON)
    assert not wants_page("application/ld+json, text/html;q=0.5", JSON)
    assert wants_page("application/json;q=0.5, text/html", JSON)
