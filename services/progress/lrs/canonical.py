"""Pure functions over validated statements: identifiers of agents (IFIs), the facets filters match,
the content digest that tells a resent statement from a different one, the stored form (context
activities as arrays, `timestamp`, `stored`, `authority`, `version`), and the `ids` and `canonical`
formats of GET (Communication 2.1.3)."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from services.progress.lrs import formats

# Facet kinds (docs/lrs.md "Queries").
AGENT, RELATED_AGENT, ACTIVITY, RELATED_ACTIVITY, VERB, REGISTRATION = (
    "agent",
    "related_agent",
    "activity",
    "related_activity",
    "verb",
    "registration",
)
CONTEXT_GROUPS = ("parent", "grouping", "category", "other")
SERVER_FIELDS = ("stored", "authority", "version")
IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")


MEMO_CHARS = 512  # longer strings are not remembered: a client cannot fill the memory with them


def key64(*parts: str) -> int:
    """A signed 64-bit key of some strings (index keys: collisions are negligible at 2^-64). The
    last 65,536 short ones are remembered (a pure function: a batch names the same verbs,
    activities and agents)."""
    if sum(map(len, parts)) <= MEMO_CHARS:
        return _remembered_key64(parts)
    return _key64(parts)


def _key64(parts: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_remembered_key64 = functools.lru_cache(maxsize=65536)(_key64)


def ifi(agent: Any) -> str | None:
    """The inverse functional identifier of an Agent or identified Group as one string, else None."""
    if not isinstance(agent, dict):
        return None
    if "mbox" in agent:
        return "mbox:" + str(agent["mbox"])
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum:" + str(agent["mbox_sha1sum"]).lower()
    if "openid" in agent:
        return "openid:" + str(agent["openid"])
    account = agent.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}\x1f{account.get('name')}"
    return None


def ifi_object(agent: dict[str, Any]) -> dict[str, Any]:
    """An agent reduced to its identifier (and objectType for a Group)."""
    out = {key: agent[key] for key in IDENTIFIERS if key in agent}
    if agent.get("objectType") == "Group":
        out["objectType"] = "Group"
    return out


def object_type(value: dict[str, Any]) -> str:
    kind = value.get("objectType", "Activity")
    return kind if isinstance(kind, str) else "Activity"


def context_activities(statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
    groups = (statement.get("context") or {}).get("contextActivities") or {}
    for key in CONTEXT_GROUPS:
        item = groups.get(key)
        yield from (item if isinstance(item, list) else [item] if item else [])


def facets(statement: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, value) pairs a statement matches, not counting a StatementRef target's."""
    out: set[tuple[str, str]] = {(VERB, statement["verb"]["id"])}
    target = statement["object"]
    kind = object_type(target)
    for agent in (statement["actor"], target if kind in ("Agent", "Group") else None):
        found = ifi(agent)
        if found:
            out |= {(AGENT, found), (RELATED_AGENT, found)}
    if kind == "Activity":
        out |= {(ACTIVITY, target["id"]), (RELATED_ACTIVITY, target["id"])}
    registration = (statement.get("context") or {}).get("registration")
    if registration:
        out.add((REGISTRATION, formats.canonical_uuid(registration)))
    out |= {(RELATED_AGENT, i) for i in map(ifi, _related_agents(statement)) if i}
    out |= {(RELATED_ACTIVITY, a["id"]) for a in context_activities(statement)}
    if kind == "SubStatement":
        inner = facets(target)
        out |= {(k, v) for k, v in inner if k in (RELATED_AGENT, RELATED_ACTIVITY)}
    return out


def _related_agents(statement: dict[str, Any]) -> Iterator[Any]:
    context = statement.get("context") or {}
    yield statement.get("authority")
    yield context.get("instructor")
    yield context.get("team")
    target = statement["object"]
    if object_type(target) == "SubStatement":
        yield target["actor"]
        if object_type(target["object"]) in ("Agent", "Group"):
            yield target["object"]


def facet_keys(store: str, pairs: set[tuple[str, str]]) -> list[int]:
    return sorted({key64(store, kind, value) for kind, value in pairs})


def stored_form(statement: dict[str, Any]) -> dict[str, Any]:
    """The client's statement as the LRS keeps it: context activities always arrays. A new top-level
    dict; nested parts are shared with `statement` except those it had to change (no deep copy:
    this runs for every statement stored)."""
    out = _arrays(statement)
    if object_type(out["object"]) == "SubStatement":
        out["object"] = _arrays(out["object"])
    return out


def _arrays(part: dict[str, Any]) -> dict[str, Any]:
    out = dict(part)
    groups = (out.get("context") or {}).get("contextActivities")
    if isinstance(groups, dict) and not all(isinstance(item, list) for item in groups.values()):
        arrays = {key: item if isinstance(item, list) else [item] for key, item in groups.items()}
        out["context"] = {**out["context"], "contextActivities": arrays}
    return out


def digest(statement: dict[str, Any]) -> str:
    """sha256 of what the client said, the same for the same statement however it was spelled:
    timestamps as instants, context activities as arrays, the server's fields left out."""
    form = stored_form(statement)
    return form_digest(form, formats.parse_timestamp(form["timestamp"]) if "timestamp" in form else None)


def form_digest(form: dict[str, Any], moment: datetime | None) -> str:
    """`digest` of a statement's `stored_form` whose timestamp parsed as `moment` (None: keep it)."""
    client = {k: v for k, v in form.items() if k not in SERVER_FIELDS}
    if moment is not None:
        client["timestamp"] = _instant(moment)
    if object_type(client["object"]) == "SubStatement":
        inner = client["object"] = dict(client["object"])
        if "timestamp" in inner:
            parsed = formats.parse_timestamp(inner["timestamp"])
            if parsed is not None:
                inner["timestamp"] = _instant(parsed)
    if "id" in client:
        client["id"] = str(client["id"]).lower()
    canonical = json.dumps(client, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    """Agents, groups, activities and verbs reduced to what identifies them (format=ids)."""
    out = copy.deepcopy(statement)
    _reduce(out)
    return out


def _reduce(part: dict[str, Any]) -> None:
    part["actor"] = _agent_ids(part["actor"])
    part["verb"] = {"id": part["verb"]["id"]}
    target = part["object"]
    kind = object_type(target)
    if kind == "Activity":
        part["object"] = {"id": target["id"]}
    elif kind in ("Agent", "Group"):
        part["object"] = _agent_ids(target)
    elif kind == "SubStatement":
        _reduce(target)
    context = part.get("context") or {}
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _agent_ids(context[key])
    for key, items in (context.get("contextActivities") or {}).items():
        context["contextActivities"][key] = [{"id": a["id"]} for a in items]
    if "authority" in part:
        part["authority"] = _agent_ids(part["authority"])


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    reduced = ifi_object(agent)
    if agent.get("objectType") == "Group" and "member" in agent:
        reduced["member"] = [ifi_object(m) for m in agent["member"]]
    return reduced


def canonical_format(statement: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    """Every language map reduced to the one language the client prefers (Accept-Language)."""
    out = copy.deepcopy(statement)
    _language_maps(out, languages)
    return out


LANGUAGE_MAP_KEYS = {"display", "name", "description"}


def _language_maps(value: Any, languages: list[str], key: str = "") -> None:
    if isinstance(value, dict):
        if key in LANGUAGE_MAP_KEYS and value and all(isinstance(v, str) for v in value.values()):
            chosen = pick_language(value, languages)
            value.clear()
            value.update(chosen)
            return
        for child_key, child in value.items():
            if child_key != "extensions":
                _language_maps(child, languages, child_key)
    elif isinstance(value, list):
        for item in value:
            _language_maps(item, languages, "")


def pick_language(mapping: dict[str, str], languages: list[str]) -> dict[str, str]:
    lowered = {tag.lower(): tag for tag in mapping}
    for wanted in languages:
        wanted = wanted.lower()
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: mapping[tag]}
        for low, tag in lowered.items():
            if low.split("-")[0] == wanted.split("-")[0]:
                return {tag: mapping[tag]}
    first = next(iter(mapping))
    return {first: mapping[first]}


def accept_languages(header: str) -> list[str]:
    """Language tags of an Accept-Language header, best first."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]
