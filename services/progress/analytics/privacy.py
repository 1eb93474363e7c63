"""What an analytics caller may see: their jurisdiction, and small cells suppressed (docs/analytics.md,
"Privacy", ADR 0019). Pure functions, so every case is enumerated in unit tests.

`jurisdiction` is the one place a token's scope becomes what it may see; service.py's `resolve_unit`
applies it to the org unit asked for (404 unknown, 403 outside), and every report starts with both.

Small-cell suppression (`protect`) works on a table of counts and the sums that tie them together
(`Relation`: a total and its parts, e.g. a unit and its children, all courses and each course, all
time and each month, or a stage and the next one plus an unpublished remainder), for dashboards and
exports alike:

1. **Primary**: a count of 1-9 (below `threshold`) is hidden; zero is shown, it describes nobody.
2. **Down**: when a total is hidden, so are its parts (a unit's children, a month of a hidden year,
   the later stages of a hidden stage), or they would add up to it.
3. **Complementary**: when a total is shown and some parts are hidden, the hidden parts must be at
   least two, hold together at least `threshold`, and leave each hidden small part its whole label
   range: a part shown as "*" is known to hold at least `threshold`, so the hidden sum less
   `threshold` for each "*" part must still reach `threshold - 1`; and where every hidden part is a
   "<10" (at most `threshold - 1` each) the others must be able to hold the whole sum. Otherwise the
   next shown part is hidden as well (the smallest that is enough, zeros first, else the largest),
   and when none is left the total itself (if this table decides it). A hidden part that a shown
   total already gives as zero is shown.
4. Until nothing changes. Totals decided elsewhere (`fixed`, e.g. a unit's own counts, decided in its
   parent's table) are never changed here, so every table below agrees with the tables above it.

The result is a `Pattern`: which counts are hidden, and which of those are "protected" (not small
themselves: hidden only so that a small one cannot be worked out).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from libs.auth import Principal
from libs.errors import Forbidden

THRESHOLD = 10


@dataclass(frozen=True)
class Jurisdiction:
    """What a principal may see: an org-unit subtree (its path; "" = the whole tree) and, for an
    institute's admins, only that institute's enrolments."""

    path: str
    institute: str | None = None

    def covers(self, unit_path: str) -> bool:
        return not self.path or unit_path == self.path or unit_path.startswith(self.path + "/")

    def institute_filter(self, asked: str | None) -> str | None:
        """The institute a report counts: the caller's own if they are an institute's admin (asking
        for another is a 403), else the one asked for."""
        if self.institute and asked and asked != self.institute:
            raise Forbidden("You can only see your own institute's teachers.")
        return self.institute or asked


def jurisdiction(user: Principal) -> Jurisdiction:
    """The only mapping from a token to what it may read; every report and export goes through it."""
    if not user.has("analyst", "institute_admin", "platform_admin"):
        raise Forbidden("Analytics needs the analyst, institute admin or platform admin role.")
    scope = user.scope or ""
    if scope.startswith("org:") and len(scope) > 4:
        return Jurisdiction(path=scope.removeprefix("org:"))
    if scope.startswith("institute:") and len(scope) > 10 and user.has("institute_admin", "platform_admin"):
        return Jurisdiction(path="", institute=scope.removeprefix("institute:"))
    raise Forbidden("Your account has no analytics jurisdiction (scope).")


def is_small(count: int, threshold: int = THRESHOLD) -> bool:
    return 0 < count < threshold


@dataclass(frozen=True)
class Relation:
    """`total` = the sum of `parts` (exactly, for every population)."""

    total: Hashable
    parts: tuple[Hashable, ...]


@dataclass(frozen=True)
class Pattern:
    """The counts of a table and which of them are hidden."""

    values: Mapping[Hashable, int]
    hidden: frozenset[Hashable]
    threshold: int = THRESHOLD
    unprotected: tuple[Relation, ...] = ()  # relations a fixed total left without enough protection

    def shown(self, key: Hashable) -> int | None:
        return None if key in self.hidden else self.values.get(key, 0)

    def protected(self, key: Hashable) -> bool:
        """Hidden though not small: hidden only so that a small count cannot be worked out."""
        return key in self.hidden and self.values.get(key, 0) >= self.threshold


def _touching(relations: Sequence[Relation]) -> dict[Hashable, list[int]]:
    """The relations each count is the total or a part of."""
    out: dict[Hashable, list[int]] = defaultdict(list)
    for i, r in enumerate(relations):
        out[r.total].append(i)
        for p in r.parts:
            out[p].append(i)
    return out


class _Protector:
    def __init__(
        self,
        values: Mapping[Hashable, int],
        relations: Sequence[Relation],
        fixed: Mapping[Hashable, bool],
        slack: frozenset[Hashable],
        threshold: int,
    ) -> None:
        self.values, self.relations, self.slack, self.t = values, relations, slack, threshold
        self.fixed: dict[Hashable, bool] = dict(fixed)
        self.hidden: set[Hashable] = set(slack) | {k for k, h in fixed.items() if h}
        self.hidden |= {
            k for k, v in values.items() if k not in fixed and k not in slack and is_small(v, threshold)
        }
        self.touching = _touching(relations)
        # a remainder's stages: (the stage above, the stage below); known when both are shown
        self.pair: dict[Hashable, tuple[Hashable, Hashable]] = {}
        for r in relations:
            if len(r.parts) == 2 and r.total not in slack:
                rests = [p for p in r.parts if p in slack]
                if len(rests) == 1:
                    self.pair[rests[0]] = (r.total, r.parts[1] if r.parts[0] == rests[0] else r.parts[0])
        for rest, stages in self.pair.items():  # a stage shown or hidden changes its remainder's sums
            for i in self.touching[rest]:
                if self.relations[i].total in slack:
                    for stage in stages:
                        self.touching[stage].append(i)
        # kept as counts are hidden, so that a sum is not gone through again for every question: its
        # shown parts' sum (a neighbour's cap), its hidden parts and their tally (`short`)
        self.part_of: dict[Hashable, list[int]] = defaultdict(list)
        self.total_of: dict[Hashable, list[int]] = defaultdict(list)
        for i, r in enumerate(relations):
            self.total_of[r.total].append(i)
            for p in r.parts:
                self.part_of[p].append(i)
        self.part_sets = [frozenset(r.parts) for r in relations]
        self.shown_sum = [sum(values.get(p, 0) for p in r.parts if p not in self.hidden) for r in relations]
        self.hidden_parts = [{p for p in r.parts if p in self.hidden} for r in relations]
        self.tallies = [self._tally(parts) for parts in self.hidden_parts]
        self.queue: deque[int] = deque(range(len(relations)))
        self.queued = set(self.queue)
        self.unprotected: list[Relation] = []

    def known(self, rest: Hashable) -> bool:
        """A remainder whose two stages are both shown (their difference)."""
        stages = self.pair.get(rest)
        return stages is not None and all(k not in self.hidden for k in stages)

    def rest_exposed(self, index: int) -> list[Hashable]:
        """For a sum of remainders (a parent's remainder = its units'), known when the parent's two
        stages are shown: the unknown remainders leave together less than `threshold` (or nothing),
        so a unit with one stage hidden and the other shown has the hidden one narrowed to fewer
        than `threshold` values (4 started shown, so enrolled is 4..4+that sum). Returns those
        unknown remainders (none if the sum is safe)."""
        relation = self.relations[index]
        if not self.known(relation.total):
            return []
        unknown = [p for p in relation.parts if not self.known(p)]
        room = sum(self.values.get(p, 0) for p in unknown)
        if room >= self.t:
            return []
        return [
            p
            for p in unknown
            if p in self.pair
            and sum(k in self.hidden for k in self.pair[p]) == 1
            and any(k in self.hidden and self.values.get(k, 0) for k in self.pair[p])
        ]

    def rest_complement(self, index: int) -> None:
        """Give the unknown remainders room: hide the lower stage of a known remainder that is enough
        (the smallest), else the shown stage of each exposed unit, else report the sum unprotected."""
        relation = self.relations[index]
        while exposed := self.rest_exposed(index):
            unknown = sum(self.values.get(p, 0) for p in relation.parts if not self.known(p))
            enough = sorted(
                (self.values.get(p, 0), str(p), p)
                for p in relation.parts
                if self.known(p)
                and unknown + self.values.get(p, 0) >= self.t
                and self.interior(self.pair[p][1])
            )
            if enough:
                self.hide(self.pair[enough[0][2]][1])
                continue
            shown = [k for p in exposed for k in self.pair[p] if k not in self.hidden and self.interior(k)]
            if not shown:
                self.unprotected.append(relation)
                return
            for key in shown:
                self.hide(key)

    def interior(self, key: Hashable) -> bool:
        return key not in self.fixed and key not in self.slack

    def hide(self, key: Hashable) -> None:
        if key in self.hidden:
            return
        self.hidden.add(key)
        for i in self.part_of[key]:
            self.shown_sum[i] -= self.values.get(key, 0)
            if key not in self.hidden_parts[i]:
                self.hidden_parts[i].add(key)
                self._add(self.tallies[i], key)
        for i in self.touching[key]:
            if i not in self.queued:
                self.queued.add(i)
                self.queue.append(i)

    def unhide(self, key: Hashable) -> None:
        """Show a hidden zero again (the sums of shown parts do not change: it is zero)."""
        self.hidden.discard(key)
        for i in self.part_of[key]:
            if key in self.hidden_parts[i]:
                self.hidden_parts[i].discard(key)
                self._add(self.tallies[i], key, -1)

    def short(self, index: int) -> bool:
        """Whether the hidden parts of relation `index`'s shown total leave a hidden count recoverable
        or narrowed. Unpublished remainders protect others, and need protection themselves when small
        (two shown stages would give a small difference: 4 completed but not certified)."""
        return self._short(self.tallies[index])

    def _tally(self, hidden: Iterable[Hashable]) -> list[int]:
        """What `short` needs of some hidden parts: [protectable, total, count, stars, small, slack]."""
        out = [0, 0, 0, 0, 0, 0]
        for p in hidden:
            self._add(out, p)
        return out

    def _add(self, tally: list[int], p: Hashable, sign: int = 1) -> None:
        v = self.values.get(p, 0)
        rest = p in self.slack
        tally[0] += sign * (not rest or is_small(v, self.t))
        tally[1] += sign * v
        tally[2] += sign
        tally[3] += sign * (not rest and v >= self.t)
        tally[4] += sign * (v < self.t)
        tally[5] += sign * rest

    def _short(self, tally: list[int]) -> bool:
        protectable, total, count, stars, small, rests = tally
        if not protectable:
            return False  # only remainders that are not small: nothing to protect
        if total == 0:
            return False
        if count < 2 or total < self.t:
            return True
        if not small:
            return False
        if total - self.t * stars < self.t - 1:  # each "*" holds at least the threshold
            return True
        # with only "<10" parts (each at most threshold - 1), the others must be able to take it all
        unbounded = stars or rests
        return not unbounded and total > (self.t - 1) * (count - 1)

    def cap(self, key: Hashable, besides: int) -> float:
        """The most `key` can hold by the other sums it is part of (a shown total less its shown parts)."""
        best = float("inf")  # not remembered: a count is part of a few sums, and a hide changes caps
        for i in self.part_of[key]:
            r = self.relations[i]
            if i == besides or r.total in self.hidden:
                continue
            best = min(best, self.values.get(r.total, 0) - self.shown_sum[i])
        return best

    def _room(self, index: int, hidden: Iterable[Hashable]) -> list[float]:
        """What `narrowed` needs of the hidden parts of relation `index`: [total, the sum of their
        caps, the smallest and the largest cap of a part that needs room]."""
        out = [0.0, 0.0, float("inf"), float("-inf")]
        for p in hidden:
            self._add_room(out, index, p)
        return out

    def _add_room(self, room: list[float], index: int, p: Hashable) -> None:
        v = self.values.get(p, 0)
        c = self.cap(p, index)
        room[0] += v
        room[1] += c
        if v and not (p in self.slack and not is_small(v, self.t)):
            room[2] = min(room[2], c)
            room[3] = max(room[3], c)

    def _narrow(self, room: list[float]) -> bool:
        """Whether a part that needs room has fewer than `threshold` values: what the others can
        hold, or its own cap, leave it min(cap, total) - max(0, total - (others' caps)). That is
        smallest at the smallest or at the largest cap, so only those two are checked."""
        total, caps, low, high = room
        if low == float("inf") and high == float("-inf"):
            return False
        for c in (low, high):
            least = max(0.0, total - (caps - c))
            if min(c, total) - least < self.t:
                return True
        return False

    def narrowed(
        self, index: int, extra: Hashable | None = None, hidden: list[Hashable] | None = None
    ) -> bool:
        """Whether a hidden part of relation `index` (with `extra` hidden too) has fewer than
        `threshold` values, the others not giving it room enough. (`hidden`: its hidden parts with
        `extra`, when the caller has them.)"""
        if hidden is None:
            hidden = [*self.hidden_parts[index], *([extra] if extra is not None else [])]
        return self._narrow(self._room(index, hidden))

    def complement(self, index: int) -> None:
        """Hide further parts (zeros first: they cost nothing) until the relation is protected, else
        the sum that caps a part too tightly, else its total."""
        relation = self.relations[index]
        candidates = sorted(
            (p for p in relation.parts if p not in self.hidden and self.interior(p)),
            key=lambda p: (self.values.get(p, 0), str(p)),
        )

        room: list[float] | None = None  # kept while hiding a candidate changes no other part's cap
        caps: dict[Hashable, float] = {}  # the candidates' caps, likewise
        while True:
            short = self.short(index)
            if not short and room is None:
                room = self._room(index, self.hidden_parts[index])
            if not short and room is not None and not self._narrow(room):
                return  # protected
            if candidates:
                chosen = (
                    candidates[-1]
                    if short or room is None
                    else self._first_enough(index, room, candidates, caps)
                )
                candidates.remove(chosen)
                moves = self.moves_caps(chosen, index)
                self.forget_caps(chosen, index, caps)
                self.hide(chosen)
                if room is not None and not moves:
                    self._add_room(room, index, chosen)
                else:
                    room = None
                continue
            if not self.uncap(index):
                break
            room = None
            caps.clear()
        if self.interior(relation.total):
            self.hide(relation.total)
        else:
            self.unprotected.append(relation)

    def moves_caps(self, key: Hashable, index: int) -> bool:
        """Whether hiding `key` changes the cap of another hidden part of relation `index`: a sum
        besides `index` that `key` is part or total of has such a part too."""
        hidden = self.hidden_parts[index]
        for j in (*self.part_of[key], *self.total_of[key]):
            if j == index:
                continue
            parts = self.part_sets[j]
            if len(parts) <= len(hidden):
                if any(p in hidden for p in parts if p != key):
                    return True
            elif any(p in parts for p in hidden if p != key):
                return True
        return False

    def forget_caps(self, key: Hashable, index: int, caps: dict[Hashable, float]) -> None:
        """Forget the remembered caps that hiding `key` changes (the parts of its other sums)."""
        if not caps:
            return
        for j in (*self.part_of[key], *self.total_of[key]):
            if j == index:
                continue
            parts = self.part_sets[j]
            if len(parts) <= len(caps):
                for p in parts:
                    caps.pop(p, None)
            else:
                for p in [p for p in caps if p in parts]:
                    del caps[p]

    def _first_enough(
        self, index: int, room: list[float], candidates: list[Hashable], caps: dict[Hashable, float]
    ) -> Hashable:
        """The first candidate that, hidden too, gives every hidden part (their `room`) its room;
        else the last (the largest). (While the hidden parts are too few or hold too little,
        `short`, the caller takes the largest: one more small part would not be enough.)
        `caps`: the candidates' caps as far as known (kept by the caller while they hold)."""
        total, sum_caps, low, high = room
        t, values, slack, inf = self.t, self.values, self.slack, float("inf")
        for c in candidates:
            k = caps.get(c)
            if k is None:
                k = caps[c] = self.cap(c, index)
            v = values.get(c, 0)
            lo, hi = low, high
            if v and not (c in slack and v >= t):
                lo, hi = min(lo, k), max(hi, k)
            if lo == inf and hi == -inf:
                return c  # nothing needs room (`_narrow`, inline: this loop is the engine's hottest)
            whole, room_all = total + v, sum_caps + k
            if all(min(x, whole) - max(0.0, whole - (room_all - x)) >= t for x in (lo, hi)):
                return c
        return candidates[-1]

    def uncap(self, index: int) -> bool:
        """Hide the sum that caps a hidden part of relation `index` most tightly; False if none can be."""
        relation = self.relations[index]
        capped = sorted(
            (self.cap(p, index), str(p), p)
            for p in relation.parts
            if p in self.hidden and p not in self.slack and self.values.get(p, 0)
        )
        for room, _, part in capped:
            if room == float("inf"):
                break
            total = self.capping(part, index)
            if total is not None:
                self.hide(total)
                return True
        return False

    def capping(self, key: Hashable, besides: int) -> Hashable | None:
        """The interior total of the tightest other sum capping `key` (hidden, it caps no more)."""
        best: tuple[float, Hashable] | None = None
        for i in self.part_of[key]:
            r = self.relations[i]
            if i == besides or r.total in self.hidden or not self.interior(r.total):
                continue
            room = self.values.get(r.total, 0) - self.shown_sum[i]
            if best is None or room < best[0]:
                best = (room, r.total)
        return None if best is None else best[1]

    def pinned_zeros(self) -> list[Hashable]:
        """Hidden parts that a shown total already gives as zero (it less its shown parts is 0)."""
        out: list[Hashable] = []
        for i, r in enumerate(self.relations):
            if r.total in self.hidden:
                continue
            if self.hidden_parts[i] and not self.tallies[i][1]:
                hidden = [p for p in r.parts if p in self.hidden_parts[i]]  # in order: deterministic
                out += [p for p in hidden if p not in self.slack and p not in self.fixed]
        return out

    def run(self) -> Pattern:
        while True:
            while self.queue:
                i = self.queue.popleft()
                self.queued.discard(i)
                relation = self.relations[i]
                if relation.total in self.slack:  # a sum of remainders
                    self.rest_complement(i)
                elif relation.total in self.hidden:
                    for p in relation.parts:
                        if self.interior(p):
                            self.hide(p)
                elif self.short(i) or self.narrowed(i):
                    self.complement(i)
            zeros = self.pinned_zeros()
            if not zeros:
                break
            for key in zeros:  # shown: hiding them protects nothing; no longer to be hidden (zeros:
                self.unhide(key)  # the sums of shown parts stay as they are)
                self.fixed[key] = False
                for i in self.touching[key]:
                    if i not in self.queued:
                        self.queued.add(i)
                        self.queue.append(i)
        unprotected = tuple(dict.fromkeys(r for r in self.unprotected if r.total not in self.hidden))
        return Pattern(self.values, frozenset(self.hidden - self.slack), self.t, unprotected)


def protect(
    values: Mapping[Hashable, int],
    relations: Sequence[Relation],
    *,
    fixed: Mapping[Hashable, bool] | None = None,
    slack: Iterable[Hashable] = (),
    threshold: int = THRESHOLD,
) -> Pattern:
    """Which counts of a table to hide (rules 1-4 above). `fixed`: counts decided elsewhere (True =
    hidden), never changed here; `slack`: unpublished parts (a stage's remainder), always unknown."""
    return _Protector(values, relations, dict(fixed or {}), frozenset(slack), threshold).run()
