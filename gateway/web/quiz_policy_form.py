"""The quiz policy's fields in the editor's quiz form (docs/adr/0022-quiz-policy.md): attempts, the
cool-down in minutes, the feedback, the draw from the pool and the shuffles. Works with JavaScript
off: an empty number means "unlimited" or "all"; an unchecked box is off."""

from __future__ import annotations

from typing import Any

from gateway.web.draft_form import Errors, Form, parse_number, text
from gateway.web.i18n import gettext as _

FEEDBACK = ("each_attempt", "after_last", "score_only")


def feedback_labels() -> dict[str, str]:
    return {
        "each_attempt": _("After each attempt"),
        "after_last": _("After the last attempt"),
        "score_only": _("Score only"),
    }


def _whole(form: Form, name: str, errors: Errors, low: int, high: int) -> tuple[bool, int | None]:
    """(ok, value): an empty field is None; anything else a whole number from low to high."""
    raw = text(form, name).strip()
    if not raw:
        return True, None
    number = parse_number(raw)
    if number is None or number != int(number) or not low <= number <= high:
        errors.raw[name] = raw
        errors.add(name, _("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return False, None
    return True, int(number)


def apply_policy(item: dict[str, Any], form: Form, errors: Errors) -> None:
    """The policy fields of a quiz form into the quiz (fields with errors keep their old value)."""
    policy = dict(item.get("policy") or {})
    for name, low, high in (("max_attempts", 1, 100), ("draw", 1, 200)):
        ok, value = _whole(form, f"policy.{name}", errors, low, high)
        if ok:
            policy[name] = value
    ok, minutes = _whole(form, "policy.cooldown_minutes", errors, 0, 43200)
    if ok:
        policy["cooldown_seconds"] = (minutes or 0) * 60
    chosen = text(form, "policy.feedback")
    if chosen in FEEDBACK:
        policy["feedback"] = chosen
    for box in ("show_answers", "shuffle_questions", "shuffle_options"):
        policy[box] = form.get(f"policy.{box}") == "on"
    item["policy"] = policy
