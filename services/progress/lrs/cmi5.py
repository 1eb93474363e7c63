"""cmi5's rules for the statements an AU sends with its launch's auth token (cmi5 "Quartz", section
9.3 and 10), checked before anything is stored (403 with the rule broken, nothing stored), and what
the LMS concludes from them: the session's state and whether the AU's moveOn is satisfied.

- The actor is the launch's actor and the registration the launch's; an AU voids nothing.
- The AU's first statement is `initialized`; nothing follows `terminated` or the LMS's `abandoned`
  (given when the AU is launched again before its session terminated).
- cmi5 defined statements (verbs below, about the AU's activity id) carry the cmi5 category;
  `launched`, `abandoned`, `waived` and `satisfied` are the LMS's alone.
- `completed` at most once per registration, with `result.completion` true; `passed` at most once
  and never after it `failed`; `passed` with `result.success` true and a scaled score at or above
  the AU's masteryScore (when it has one), `failed` with `success` false and below it; completed,
  passed and failed carry the moveOn category."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from libs.errors import Forbidden

CMI5_VERBS = {
    name: f"http://adlnet.gov/expapi/verbs/{name}"
    for name in ("launched", "initialized", "completed", "passed", "failed", "abandoned", "terminated")
} | {
    "waived": "https://w3id.org/xapi/adl/verbs/waived",
    "satisfied": "https://w3id.org/xapi/adl/verbs/satisfied",
}
VERB_NAMES = {iri: name for name, iri in CMI5_VERBS.items()}
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
LMS_ONLY = {"launched", "abandoned", "waived", "satisfied"}
CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY_EXT = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
LAUNCH_MODE_EXT = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
MOVEON_EXT = "https://w3id.org/xapi/cmi5/context/extensions/moveon"


class RuleBroken(Forbidden):
    slug = "cmi5-rule"


def _categories(statement: dict[str, Any]) -> set[str]:
    context = statement.get("context") or {}
    return {c.get("id", "") for c in (context.get("contextActivities") or {}).get("category") or []}


def check(
    statements: Sequence[dict[str, Any]],
    *,
    actor: dict[str, Any],
    registration: str,
    au_id: str,
    mastery: float | None,
    session_state: list[str],
    registration_state: set[str],
) -> list[str]:
    """The session's state after `statements` (appended to `session_state`), or RuleBroken.
    `registration_state` holds the verbs already sent in other sessions of the registration."""
    state = list(session_state)
    for index, statement in enumerate(statements):
        where = f"statements[{index}]"
        if statement.get("actor") != actor:
            raise RuleBroken(f"{where}: the actor must be the launch's actor ({actor}).")
        if ((statement.get("context") or {}).get("registration") or "").lower() != registration.lower():
            raise RuleBroken(f"{where}: context.registration must be the launch's registration.")
        if "terminated" in state or "abandoned" in state:
            raise RuleBroken(f"{where}: the session is terminated or abandoned; launch the AU again.")
        if statement["verb"]["id"] == VOIDED:
            raise RuleBroken(f"{where}: an AU may not void statements (cmi5 6.3).")
        verb = VERB_NAMES.get(statement["verb"]["id"])
        if not state and verb != "initialized":
            raise RuleBroken(f"{where}: an AU's first statement is initialized.")
        if verb is not None:
            _defined(statement, verb, where, au_id=au_id, mastery=mastery, seen={*state, *registration_state})
            state.append(verb)
    return state


def _defined(
    statement: dict[str, Any], verb: str, where: str, *, au_id: str, mastery: float | None, seen: set[str]
) -> None:
    if verb in LMS_ONLY:
        raise RuleBroken(f"{where}: {verb} is sent by the LMS, not the AU.")
    if (statement.get("object") or {}).get("id") != au_id:
        raise RuleBroken(f"{where}: a cmi5 defined statement is about the AU ({au_id}).")
    if CATEGORY not in _categories(statement):
        raise RuleBroken(f"{where}: a cmi5 defined statement carries the category {CATEGORY}.")
    if verb == "initialized" and "initialized" in seen:
        raise RuleBroken(f"{where}: the session is initialized already.")
    if verb in ("completed", "passed", "failed"):
        _outcome(statement, verb, where, mastery=mastery, seen=seen)


def _outcome(
    statement: dict[str, Any], verb: str, where: str, *, mastery: float | None, seen: set[str]
) -> None:
    result = statement.get("result") or {}
    scaled = (result.get("score") or {}).get("scaled")
    if MOVEON not in _categories(statement):
        raise RuleBroken(f"{where}: {verb} carries the category {MOVEON}.")
    if verb == "completed":
        if "completed" in seen:
            raise RuleBroken(f"{where}: the AU is completed already in this registration.")
        if result.get("completion") is not True:
            raise RuleBroken(f"{where}: completed has result.completion true.")
        return
    if "passed" in seen:
        raise RuleBroken(f"{where}: the AU is passed already in this registration.")
    if result.get("success") is not (verb == "passed"):
        raise RuleBroken(f"{where}: {verb} has result.success {str(verb == 'passed').lower()}.")
    if mastery is not None and isinstance(scaled, int | float) and (scaled >= mastery) != (verb == "passed"):
        raise RuleBroken(
            f"{where}: a scaled score of {scaled} against the masteryScore {mastery} is not {verb}."
        )


def satisfied(move_on: str, verbs: set[str]) -> bool:
    """Whether an AU's moveOn criterion holds, given the verbs its registration has sent."""
    done, passed = "completed" in verbs, "passed" in verbs
    return {
        "Completed": done,
        "Passed": passed,
        "CompletedAndPassed": done and passed,
        "CompletedOrPassed": done or passed,
        "NotApplicable": True,
    }.get(move_on, False)
