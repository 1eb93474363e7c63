"""The small-cell suppression rules (services/progress/analytics/privacy.py), case by case."""

from __future__ import annotations

import itertools

import pytest

from services.progress.analytics.privacy import hidden_cells, is_small, suppress, suppress_table


def test_nothing_small_shows_everything() -> None:
    assert suppress({"a": 10, "b": 25, "c": 40}) == ({"a": 10, "b": 25, "c": 40}, 75)


def test_zero_is_shown_it_describes_nobody() -> None:
    assert suppress({"a": 0, "b": 12, "c": 30}) == ({"a": 0, "b": 12, "c": 30}, 42)
    assert suppress({}) == ({}, 0)
    assert suppress({"a": 0}) == ({"a": 0}, 0)


@pytest.mark.parametrize("small", range(1, 10))
def test_a_single_small_cell_hides_the_next_smallest_sibling_too(small: int) -> None:
    shown, total = suppress({"a": small, "b": 40, "c": 15, "d": 80})
    assert shown == {"a": None, "b": 40, "c": None, "d": 80} and total == 135 + small


def test_the_complement_is_the_smallest_non_zero_sibling_ties_by_key() -> None:
    assert suppress({"a": 3, "b": 0, "c": 20, "d": 20, "e": 50})[0] == {
        "a": None,
        "b": 0,
        "c": None,
        "d": 20,
        "e": 50,
    }


def test_two_small_cells_need_no_complement() -> None:
    assert suppress({"a": 3, "b": 4, "c": 50})[0] == {"a": None, "b": None, "c": 50}


def test_a_small_total_hides_the_total_and_every_cell() -> None:
    assert suppress({"a": 3, "b": 0, "c": 5}) == ({"a": None, "b": None, "c": None}, None)
    assert suppress({"only": 9}) == ({"only": None}, None)


def test_exactly_the_threshold_is_shown() -> None:
    assert suppress({"a": 10, "b": 10}) == ({"a": 10, "b": 10}, 20)
    assert not is_small(10) and is_small(9) and not is_small(0)


def test_another_threshold() -> None:
    assert suppress({"a": 4, "b": 6, "c": 30}, threshold=5)[0] == {"a": None, "b": None, "c": 30}


def test_a_hidden_cell_can_never_be_recovered_by_subtraction() -> None:
    """Exhaustively over small groups: a hidden cell is never the only hidden one of a group whose
    total is shown, and no shown cell is 1..9."""
    for values in itertools.product([0, 1, 5, 9, 10, 11, 30], repeat=3):
        counts = dict(zip("abc", values, strict=True))
        shown, total = suppress(counts)
        hidden = [k for k, v in shown.items() if v is None]
        assert all(v is None or not is_small(v) for v in shown.values()), counts
        if total is not None:
            assert len(hidden) != 1, counts
            # and the hidden cells add up to a sum that is at least as large as each of them
        else:
            assert hidden == list(counts), counts


def test_already_hidden_cells_count_towards_the_complement() -> None:
    assert hidden_cells({"a": 50, "b": 30, "c": 20}, already={"b"}) == {"b", "c"}


def test_a_table_suppresses_rows_and_columns_until_stable() -> None:
    cells = {
        ("r1", "x"): 3,
        ("r1", "y"): 20,
        ("r1", "z"): 30,
        ("r2", "x"): 25,
        ("r2", "y"): 40,
        ("r2", "z"): 12,
        ("r3", "x"): 30,
        ("r3", "y"): 22,
        ("r3", "z"): 50,
    }
    hidden = suppress_table(cells)
    assert ("r1", "x") in hidden
    for r in ("r1", "r2", "r3"):  # no row, no column with exactly one hidden cell
        assert sum((r, c) in hidden for c in "xyz") != 1
    for c in "xyz":
        assert sum((r, c) in hidden for r in ("r1", "r2", "r3")) != 1
    assert all(not is_small(v) for k, v in cells.items() if k not in hidden)


def test_a_table_row_with_a_small_total_is_hidden_whole() -> None:
    cells = {
        ("r1", "x"): 2,
        ("r1", "y"): 0,
        ("r2", "x"): 30,
        ("r2", "y"): 40,
        ("r3", "x"): 20,
        ("r3", "y"): 15,
    }
    hidden = suppress_table(cells)
    assert {("r1", "x"), ("r1", "y")} <= hidden
    for c in "xy":
        assert sum((r, c) in hidden for r in ("r1", "r2", "r3")) != 1


def test_a_table_without_small_cells_hides_nothing() -> None:
    assert suppress_table({("a", "x"): 10, ("a", "y"): 0, ("b", "x"): 11, ("b", "y"): 99}) == set()


def test_a_column_hidden_one_level_up_makes_its_rows_hide_a_complement() -> None:
    cells = {("a", "x"): 20, ("a", "y"): 30, ("b", "x"): 40, ("b", "y"): 50}
    hidden = suppress_table(cells, already={("a", "x"), ("b", "x")})
    assert {("a", "x"), ("b", "x")} <= hidden
    # each row now has a hidden cell and a shown total: its other cell goes too
    assert hidden == set(cells)
