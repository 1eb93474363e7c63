"""Statement validation as xAPI 1.0.3 requires it of an LRS (Data 2.4, 4): every violation is an
`Invalid` naming the property (`statement.context.instructor.mbox: ...`), answered 400 with that
reason. Pure functions over parsed JSON; agents, activities and the other objects in objects.py."""

from __future__ import annotations

from typing import Any

from services.progress.lrs import formats
from services.progress.lrs.objects import (
    Invalid,
    check_activity,
    check_actor,
    check_agent_or_group,
    check_extensions,
    check_group,
    check_keys,
    check_language_map,
    check_object,
    check_verb,
    expect_dict,
    expect_str,
)

STATEMENT_KEYS = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
SUBSTATEMENT_KEYS = {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
SCORE_KEYS = {"scaled", "raw", "min", "max"}
CONTEXT_KEYS = {
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
}
CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}
ATTACHMENT_KEYS = {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def check_statement(value: Any, path: str = "statement") -> dict[str, Any]:
    """A statement as a client sent it; raises Invalid with the first violation."""
    statement = expect_dict(value, path)
    if _has_null(statement):
        _no_nulls(statement, path)
    check_keys(statement, STATEMENT_KEYS, path, required=("actor", "verb", "object"))
    if "id" in statement and not formats.is_uuid(statement["id"]):
        raise Invalid(f"{path}.id", "must be a UUID in its standard string form")
    _check_core(statement, path)
    if "stored" in statement and formats.parse_timestamp(statement["stored"]) is None:
        raise Invalid(f"{path}.stored", "must be an ISO 8601 timestamp")
    if "authority" in statement:
        check_authority(statement["authority"], f"{path}.authority")
    if "version" in statement and not (
        isinstance(statement["version"], str) and formats.VERSION.match(statement["version"])
    ):
        raise Invalid(f"{path}.version", "must be 1.0 or 1.0.x")
    if statement["verb"]["id"] == VOIDED and _object_type(statement["object"]) != "StatementRef":
        raise Invalid(f"{path}.object", "a voiding statement's object must be a StatementRef")
    return statement


def _check_core(statement: dict[str, Any], path: str) -> None:
    """What a statement and a sub-statement share: actor, verb, object, result, context, timestamp,
    attachments."""
    check_actor(statement["actor"], f"{path}.actor")
    check_verb(statement["verb"], f"{path}.verb")
    check_object(statement["object"], f"{path}.object", substatement=check_substatement)
    if "result" in statement:
        check_result(statement["result"], f"{path}.result")
    if "context" in statement:
        check_context(statement["context"], f"{path}.context", _object_type(statement["object"]))
    if "timestamp" in statement and formats.parse_timestamp(statement["timestamp"]) is None:
        raise Invalid(f"{path}.timestamp", "must be an ISO 8601 timestamp (and not the -00:00 offset)")
    if "attachments" in statement:
        check_attachments(statement["attachments"], f"{path}.attachments")


def check_substatement(value: dict[str, Any], path: str) -> None:
    check_keys(value, SUBSTATEMENT_KEYS, path, required=("actor", "verb", "object"))
    if _object_type(value["object"]) == "SubStatement":
        raise Invalid(f"{path}.object", "a SubStatement cannot contain another SubStatement")
    _check_core(value, path)


def _object_type(value: Any) -> str:
    kind = value.get("objectType", "Activity") if isinstance(value, dict) else "Activity"
    return kind if isinstance(kind, str) else "Activity"


def _has_null(value: dict[str, Any] | list[Any]) -> bool:
    """Whether `_no_nulls` would find a null (without building the paths it names: most statements
    have none)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if item is None:
            return True
        if isinstance(item, dict | list) and key != "extensions" and _has_null(item):
            return True
    return False


def _no_nulls(value: Any, path: str) -> None:
    """JSON null is no value of any statement property (extension values may be anything)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                raise Invalid(f"{path}.{key}", "must not be null")
            if key != "extensions":
                _no_nulls(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item is None:
                raise Invalid(f"{path}[{index}]", "must not be null")
            _no_nulls(item, f"{path}[{index}]")


def check_result(value: Any, path: str) -> None:
    result = expect_dict(value, path)
    check_keys(result, RESULT_KEYS, path)
    if "score" in result:
        check_score(result["score"], f"{path}.score")
    for key in ("success", "completion"):
        if key in result and not isinstance(result[key], bool):
            raise Invalid(f"{path}.{key}", "must be true or false")
    if "response" in result:
        expect_str(result["response"], f"{path}.response")
    if "duration" in result and not formats.is_duration(result["duration"]):
        raise Invalid(f"{path}.duration", "must be an ISO 8601 duration such as PT1M30S")
    if "extensions" in result:
        check_extensions(result["extensions"], f"{path}.extensions")


def check_score(value: Any, path: str) -> None:
    score = expect_dict(value, path)
    check_keys(score, SCORE_KEYS, path)
    for key in SCORE_KEYS & score.keys():
        if not formats.is_number(score[key]):
            raise Invalid(f"{path}.{key}", "must be a number")
    if "scaled" in score and not -1 <= score["scaled"] <= 1:
        raise Invalid(f"{path}.scaled", "must be between -1 and 1")
    low, high, raw = score.get("min"), score.get("max"), score.get("raw")
    if low is not None and high is not None and low >= high:
        raise Invalid(f"{path}.max", "must be greater than min")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise Invalid(f"{path}.raw", "must be between min and max")


def check_context(value: Any, path: str, object_type: str) -> None:
    context = expect_dict(value, path)
    check_keys(context, CONTEXT_KEYS, path)
    if "registration" in context and not formats.is_uuid(context["registration"]):
        raise Invalid(f"{path}.registration", "must be a UUID")
    if "instructor" in context:
        check_agent_or_group(context["instructor"], f"{path}.instructor")
    if "team" in context:
        check_group(expect_dict(context["team"], f"{path}.team"), f"{path}.team", require_type=True)
    if "contextActivities" in context:
        check_context_activities(context["contextActivities"], f"{path}.contextActivities")
    for key in ("revision", "platform"):
        if key in context:
            expect_str(context[key], f"{path}.{key}")
            if object_type != "Activity":
                raise Invalid(f"{path}.{key}", "is only allowed when the object is an Activity")
    if "language" in context and not formats.is_language_tag(context["language"]):
        raise Invalid(f"{path}.language", "must be an RFC 5646 language tag")
    if "statement" in context:
        ref = expect_dict(context["statement"], f"{path}.statement")
        check_keys(ref, {"objectType", "id"}, f"{path}.statement", required=("objectType", "id"))
        if ref["objectType"] != "StatementRef" or not formats.is_uuid(ref["id"]):
            raise Invalid(f"{path}.statement", "must be a StatementRef with a UUID id")
    if "extensions" in context:
        check_extensions(context["extensions"], f"{path}.extensions")


def check_context_activities(value: Any, path: str) -> None:
    groups = expect_dict(value, path)
    check_keys(groups, CONTEXT_ACTIVITY_KEYS, path)
    for key, item in groups.items():
        activities = item if isinstance(item, list) else [item]
        for index, activity in enumerate(activities):
            check_activity(expect_dict(activity, f"{path}.{key}[{index}]"), f"{path}.{key}[{index}]")


def check_attachments(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise Invalid(path, "must be an array of attachments")
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        attachment = expect_dict(item, where)
        check_keys(
            attachment,
            ATTACHMENT_KEYS,
            where,
            required=("usageType", "display", "contentType", "length", "sha2"),
        )
        if not formats.is_iri(attachment["usageType"]):
            raise Invalid(f"{where}.usageType", "must be an IRI")
        check_language_map(attachment["display"], f"{where}.display")
        if "description" in attachment:
            check_language_map(attachment["description"], f"{where}.description")
        if not formats.is_media_type(attachment["contentType"]):
            raise Invalid(f"{where}.contentType", "must be an Internet media type")
        length = attachment["length"]
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise Invalid(f"{where}.length", "must be a non-negative integer")
        if not formats.is_sha2(attachment["sha2"]):
            raise Invalid(f"{where}.sha2", "must be the hex SHA-2 of the attachment")
        if "fileUrl" in attachment and not formats.is_iri(attachment["fileUrl"]):
            raise Invalid(f"{where}.fileUrl", "must be an IRL")


def check_authority(value: Any, path: str) -> None:
    """An Agent, or a Group of exactly two Agents (an OAuth consumer and a user) (Data 2.4.9)."""
    authority = expect_dict(value, path)
    if authority.get("objectType") == "Group":
        check_group(authority, path, require_type=True)
        members = authority.get("member")
        if any(key in authority for key in ("mbox", "mbox_sha1sum", "openid", "account")):
            raise Invalid(path, "an authority Group is an anonymous Group of an OAuth consumer and a user")
        if not isinstance(members, list) or len(members) != 2:
            raise Invalid(f"{path}.member", "an authority Group has exactly two Agents (OAuth)")
    else:
        check_agent_or_group(authority, path)
