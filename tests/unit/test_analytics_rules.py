"""Pure pieces of the analytics: quantiles from a histogram, periods, query validation, jurisdiction."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from libs.auth import Principal
from libs.errors import Forbidden
from services.progress.analytics.cells import competency_of, teacher_ratings
from services.progress.analytics.privacy import Jurisdiction, jurisdiction
from services.progress.analytics.reports import quantile as _quantile
from services.progress.analytics.schemas import AnalyticsQuery, month_end


def test_quantiles_of_a_histogram_of_days() -> None:
    assert _quantile({}, 0.5) is None
    assert _quantile({3: 1}, 0.5) == 3.0 and _quantile({3: 1}, 0.75) == 3.0
    days = {1: 2, 5: 1, 9: 1}  # 1, 1, 5, 9
    assert _quantile(days, 0.5) == 1.0 and _quantile(days, 0.75) == 5.0
    assert _quantile({0: 50, 30: 50}, 0.5) == 0.0 and _quantile({0: 50, 30: 51}, 0.5) == 30.0


def test_the_last_day_of_a_month() -> None:
    assert month_end(date(2026, 2, 3)) == date(2026, 2, 28) and month_end(date(2028, 2, 29)) == date(
        2028, 2, 29
    )
    assert month_end(date(2026, 12, 31)) == date(2026, 12, 31) and month_end(date(2026, 4, 1)) == date(
        2026, 4, 30
    )


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-05-01", "to": "2026-01-31"},
        # date filters on whole calendar months only (differencing two ranges that end on other days
        # would single out those days), and trends by month only (weeks overlap month ends)
        {"from": "2026-05-02"},
        {"to": "2026-05-30"},
        {"from": "2026-03-01", "to": "2026-03-15"},
        {"interval": "week"},
        {"from": "1999-12-01"},
        {"to": "2100-01-31"},
        {"from": "2001-01-01", "to": "2026-01-31"},
        {"group_by": "name"},
        {"interval": "day"},
        {"kind": "teacher"},
        {"level": "country"},
        {"limit": "0"},
        {"org": "KZ/KZ-ALM"},
        {"x": "1"},
        {"table": "users"},
        {"format": "pdf"},
    ],
)
def test_bad_queries_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        AnalyticsQuery.model_validate(params)


def test_good_queries() -> None:
    q = AnalyticsQuery.model_validate({"from": "2026-01-01", "to": "2026-01-31", "group_by": "language"})
    assert (q.start, q.end, q.group_by) == (date(2026, 1, 1), date(2026, 1, 31), "language")
    assert AnalyticsQuery.model_validate({"to": "2024-02-29", "interval": "month"}).end == date(2024, 2, 29)


def principal(roles: tuple[str, ...], scope: str | None) -> Principal:
    return Principal(id="u", roles=roles, scope=scope)


def test_jurisdiction_is_the_scope_claim() -> None:
    assert jurisdiction(principal(("analyst",), "org:KZ/KZ-ALM")) == Jurisdiction(path="KZ/KZ-ALM")
    assert jurisdiction(principal(("institute_admin",), "institute:i1")) == Jurisdiction(
        path="", institute="i1"
    )
    for roles, scope in (
        (("analyst",), None),
        (("analyst",), "org:"),
        (("analyst",), "institute:i1"),
        (("teacher",), "org:KZ"),
        (("author",), "org:KZ"),
        (("analyst",), "everything"),
    ):
        with pytest.raises(Forbidden):
            jurisdiction(principal(roles, scope))
    scope = Jurisdiction(path="KZ/KZ-ALM")
    assert scope.covers("KZ/KZ-ALM") and scope.covers("KZ/KZ-ALM/KZ-ALM-TAL")
    assert not scope.covers("KZ") and not scope.covers("KZ/KZ-ALMATY") and not scope.covers("KZ/KZ-AKM")


def test_a_competency_is_as_strong_as_its_weakest_evidenced_indicator() -> None:
    assert competency_of("II.KA.2") == "II.KA"
    ratings = teacher_ratings(
        {"II.KA.1": [True, True], "II.KA.2": [True, False, False], "III.KD.1": [False], "IV.KC.1": []}
    )
    assert ratings == {
        ("indicator", "II.KA.1"): "proficient",
        ("indicator", "II.KA.2"): "developing",
        ("competency", "II.KA"): "developing",
        ("indicator", "III.KD.1"): "not_yet",
        ("competency", "III.KD"): "not_yet",
    }
