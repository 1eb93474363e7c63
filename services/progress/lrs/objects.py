"""The objects a statement is made of (Data 2.4.2-2.4.4, 4.1-4.2): agents and groups with their
inverse functional identifiers, verbs, activities and their definitions, language maps, extensions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from services.progress.lrs import formats

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
AGENT_KEYS = {"objectType", "name", *IFIS}
GROUP_KEYS = {"objectType", "name", "member", *IFIS}
VERB_KEYS = {"id", "display"}
ACTIVITY_KEYS = {"objectType", "id", "definition"}
DEFINITION_KEYS = {
    "name",
    "description",
    "type",
    "moreInfo",
    "extensions",
    "interactionType",
    "correctResponsesPattern",
    "choices",
    "scale",
    "source",
    "target",
    "steps",
}
# Interaction components each interaction type may carry (Data 2.4.4.1, "Interaction Components").
COMPONENTS = {
    "choice": {"choices"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "matching": {"source", "target"},
    "performance": {"steps"},
    "true-false": set(),
    "fill-in": set(),
    "long-fill-in": set(),
    "numeric": set(),
    "other": set(),
}
ALL_COMPONENTS = {"choices", "scale", "source", "target", "steps"}


class Invalid(ValueError):
    """A statement or document that xAPI calls invalid: 400, with `path: reason`."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def expect_dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(path, "must be a JSON object")
    return value


def expect_str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise Invalid(path, "must be a string")
    return value


def check_keys(
    value: dict[str, Any], allowed: Collection[str], path: str, required: Iterable[str] = ()
) -> None:
    unknown = value.keys() - allowed
    if unknown:
        raise Invalid(f"{path}.{sorted(unknown)[0]}", "is not a property xAPI defines here")
    for key in required:
        if key not in value:
            raise Invalid(f"{path}.{key}", "is required")


def check_language_map(value: Any, path: str) -> None:
    mapping = expect_dict(value, path)
    for tag, text in mapping.items():
        if not formats.is_language_tag(tag):
            raise Invalid(f"{path}.{tag}", "is not an RFC 5646 language tag")
        expect_str(text, f"{path}.{tag}")


def check_extensions(value: Any, path: str) -> None:
    for key in expect_dict(value, path):
        if not formats.is_iri(key):
            raise Invalid(f"{path}.{key}", "an extension's key must be an IRI")


def check_ifi(value: dict[str, Any], path: str, *, required: bool) -> None:
    present = [key for key in IFIS if key in value]
    if len(present) > 1:
        raise Invalid(path, f"has more than one identifier ({', '.join(present)}); give exactly one")
    if not present:
        if required:
            raise Invalid(path, "needs exactly one of mbox, mbox_sha1sum, openid, account")
        return
    key = present[0]
    item = value[key]
    if key == "mbox" and not formats.is_mailto(item):
        raise Invalid(f"{path}.mbox", "must be a mailto: IRI of an e-mail address")
    if key == "mbox_sha1sum" and not formats.is_sha1(item):
        raise Invalid(f"{path}.mbox_sha1sum", "must be the hex SHA-1 of a mailto IRI")
    if key == "openid" and not formats.is_iri(item):
        raise Invalid(f"{path}.openid", "must be a URI")
    if key == "account":
        check_account(item, f"{path}.account")


def check_account(value: Any, path: str) -> None:
    account = expect_dict(value, path)
    check_keys(account, {"homePage", "name"}, path, required=("homePage", "name"))
    if not formats.is_iri(account["homePage"]):
        raise Invalid(f"{path}.homePage", "must be an IRL")
    expect_str(account["name"], f"{path}.name")


def check_agent(value: Any, path: str) -> None:
    agent = expect_dict(value, path)
    check_keys(agent, AGENT_KEYS, path)
    if agent.get("objectType", "Agent") != "Agent":
        raise Invalid(f"{path}.objectType", "must be Agent")
    if "name" in agent:
        expect_str(agent["name"], f"{path}.name")
    check_ifi(agent, path, required=True)


def check_group(value: dict[str, Any], path: str, *, require_type: bool) -> None:
    check_keys(value, GROUP_KEYS, path)
    if value.get("objectType") != "Group" and (require_type or "objectType" in value):
        raise Invalid(f"{path}.objectType", "must be Group")
    if "name" in value:
        expect_str(value["name"], f"{path}.name")
    check_ifi(value, path, required=False)
    members = value.get("member")
    anonymous = not any(key in value for key in IFIS)
    if members is None:
        if anonymous:
            raise Invalid(f"{path}.member", "an anonymous Group needs its members")
        return
    if not isinstance(members, list) or (anonymous and not members):
        raise Invalid(f"{path}.member", "must be a non-empty array of Agents")
    for index, member in enumerate(members):
        if isinstance(member, dict) and member.get("objectType") == "Group":
            raise Invalid(f"{path}.member[{index}]", "a Group's members are Agents, not Groups")
        check_agent(member, f"{path}.member[{index}]")


def check_agent_or_group(value: Any, path: str) -> None:
    actor = expect_dict(value, path)
    kind = actor.get("objectType", "Agent")
    if kind == "Group":
        check_group(actor, path, require_type=True)
    elif kind == "Agent":
        check_agent(actor, path)
    else:
        raise Invalid(f"{path}.objectType", "must be Agent or Group")


check_actor = check_agent_or_group


def check_verb(value: Any, path: str) -> None:
    verb = expect_dict(value, path)
    check_keys(verb, VERB_KEYS, path, required=("id",))
    if not formats.is_iri(verb["id"]):
        raise Invalid(f"{path}.id", "must be an IRI")
    if "display" in verb:
        check_language_map(verb["display"], f"{path}.display")


def check_activity(value: dict[str, Any], path: str) -> None:
    check_keys(value, ACTIVITY_KEYS, path, required=("id",))
    if value.get("objectType", "Activity") != "Activity":
        raise Invalid(f"{path}.objectType", "must be Activity")
    if not formats.is_iri(value["id"]):
        raise Invalid(f"{path}.id", "must be an IRI")
    if "definition" in value:
        check_definition(value["definition"], f"{path}.definition")


def check_definition(value: Any, path: str) -> None:
    definition = expect_dict(value, path)
    check_keys(definition, DEFINITION_KEYS, path)
    for key in ("name", "description"):
        if key in definition:
            check_language_map(definition[key], f"{path}.{key}")
    for key in ("type", "moreInfo"):
        if key in definition and not formats.is_iri(definition[key]):
            raise Invalid(f"{path}.{key}", "must be an IRI")
    if "extensions" in definition:
        check_extensions(definition["extensions"], f"{path}.extensions")
    check_interaction(definition, path)


def check_interaction(definition: dict[str, Any], path: str) -> None:
    kind = definition.get("interactionType")
    given = ALL_COMPONENTS & definition.keys()
    if kind is None:
        if given or "correctResponsesPattern" in definition:
            raise Invalid(f"{path}.interactionType", "is required with interaction properties")
        return
    if not isinstance(kind, str) or kind not in COMPONENTS:
        raise Invalid(f"{path}.interactionType", f"must be one of {', '.join(sorted(COMPONENTS))}")
    extra = sorted(given - COMPONENTS[kind])
    if extra:
        raise Invalid(f"{path}.{extra[0]}", f"is not a component of a {kind} interaction")
    if "correctResponsesPattern" in definition:
        patterns = definition["correctResponsesPattern"]
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise Invalid(f"{path}.correctResponsesPattern", "must be an array of strings")
    for key in sorted(given):
        check_components(definition[key], f"{path}.{key}")


def check_components(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise Invalid(path, "must be an array of interaction components")
    seen: set[str] = set()
    for index, item in enumerate(value):
        component = expect_dict(item, f"{path}[{index}]")
        check_keys(component, {"id", "description"}, f"{path}[{index}]", required=("id",))
        component_id = expect_str(component["id"], f"{path}[{index}].id")
        if component_id in seen:
            raise Invalid(f"{path}[{index}].id", "interaction component ids must be distinct")
        seen.add(component_id)
        if "description" in component:
            check_language_map(component["description"], f"{path}[{index}].description")


def check_object(value: Any, path: str, *, substatement: Callable[[dict[str, Any], str], None]) -> None:
    target = expect_dict(value, path)
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        check_activity(target, path)
    elif kind == "Agent":
        check_agent(target, path)
    elif kind == "Group":
        check_group(target, path, require_type=True)
    elif kind == "StatementRef":
        check_keys(target, {"objectType", "id"}, path, required=("id",))
        if not formats.is_uuid(target["id"]):
            raise Invalid(f"{path}.id", "must be a UUID")
    elif kind == "SubStatement":
        substatement(target, path)
    else:
        raise Invalid(f"{path}.objectType", "must be Activity, Agent, Group, StatementRef or SubStatement")
