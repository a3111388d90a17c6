"""Applicant-proposing deferred acceptance with capacities, reserves, quotas and couples.

Two layers:

* ``compile_instance`` turns string ids into integer indices and rank-position
  arrays once (excluded from the solve time).
* ``solve_compiled`` runs the algorithm. Plain instances (capacities only) use a
  tight deferred-acceptance loop over per-program heaps of rank positions. Reserves,
  quotas and couples use the general state machine ``_Market``: the same
  proposals, through each program's choice function and the quotas, then, for
  couples and quotas, a Roth-Peranson style chase of the instabilities that
  withdrawals and quota bumps leave behind, with a cycle check on the state.

The semantics are documented in docs/matching-engine.md.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from dataclasses import dataclass

from .model import Instance

UNMATCHED = -1
# Status codes of _Market.evaluate.
ADMITTED, BY_PROGRAM, BY_QUOTA = 0, 1, 2
_MASK = (1 << 64) - 1


@dataclass(slots=True)
class Compiled:
    """Integer view of an instance. Lists are indexed by applicant / program / quota."""

    instance: Instance
    app_ids: list[str]
    prog_ids: list[str]
    cap: list[int]
    prog_app: list[list[int]]  # program -> applicants by rank (rank position = index)
    rank_of: list[dict[int, int]]  # program -> applicant -> rank position
    pref_p: list[list[int]]  # applicant -> mutually acceptable programs, best first
    pref_r: list[list[int]]  # applicant -> its rank position in each of pref_p
    app_prog: list[list[int]]  # applicant -> every program it ranks (pref_p when all accept)
    app_rank: list[list[int]]  # applicant -> its rank position there, -1 if not ranked back
    couple_of: list[int]  # applicant -> couple index or -1
    couple_members: list[tuple[int, int]]
    couple_options: list[list[tuple[int, int]]]  # program index or -1 per member
    reserve: list[tuple[tuple[int, int], ...]]  # program -> ((group, seats), ...)
    groups_of: list[frozenset[int]]
    quota_cap: list[int]
    quota_progs: list[frozenset[int]]
    quota_prio: list[dict[int, int]]  # quota -> applicant -> priority position
    quotas_of_prog: list[tuple[int, ...]]

    @property
    def plain(self) -> bool:
        """Capacities only (couples allowed): the fast deferred-acceptance loop applies."""
        return not self.quota_cap and not any(self.reserve)


def compile_instance(
    instance: Instance,
    program_ranks: list[list[int]] | None = None,
    applicant_ranks: list[list[int]] | None = None,
) -> Compiled:
    """Integer view of ``instance``; ``parse_indexed`` gives the rank lists already
    converted to indices (``compile_instance(*parse_indexed(data))``)."""
    app_index = {a.id: i for i, a in enumerate(instance.applicants)}
    prog_index = {p.id: j for j, p in enumerate(instance.programs)}
    if program_ranks is None:
        to_index = app_index.__getitem__
        program_ranks = [list(map(to_index, p.ranks)) for p in instance.programs]
    if applicant_ranks is None:
        by_id = prog_index.__getitem__
        applicant_ranks = [list(map(by_id, a.ranks)) for a in instance.applicants]
    prog_app = program_ranks
    rank_of = [dict(zip(ranks, range(len(ranks)), strict=True)) for ranks in prog_app]
    couple_of = [-1] * len(instance.applicants)
    couple_members: list[tuple[int, int]] = []
    couple_options: list[list[tuple[int, int]]] = []
    for c, couple in enumerate(instance.couples):
        m1, m2 = app_index[couple.members[0]], app_index[couple.members[1]]
        couple_of[m1] = couple_of[m2] = c
        couple_members.append((m1, m2))
        options = []
        for p1, p2 in couple.ranks:
            j1 = UNMATCHED if p1 is None else prog_index[p1]
            j2 = UNMATCHED if p2 is None else prog_index[p2]
            if (j1 == UNMATCHED or m1 in rank_of[j1]) and (j2 == UNMATCHED or m2 in rank_of[j2]):
                options.append((j1, j2))
            else:
                options.append((-2, -2))  # not mutually acceptable: never proposed
        couple_options.append(options)
    pref_p: list[list[int]] = []
    pref_r: list[list[int]] = []
    app_prog: list[list[int]] = []
    app_rank: list[list[int]] = []
    none: list[int] = []
    # ``i`` runs over app_index's own int objects, the keys of rank_of: identity hits.
    for i, ps in zip(app_index.values(), applicant_ranks, strict=True):
        if couple_of[i] >= 0:
            pref_p.append(none)
            pref_r.append(none)
            app_prog.append(none)
            app_rank.append(none)
            continue
        rs = [rank_of[j].get(i, -1) for j in ps]
        app_prog.append(ps)
        app_rank.append(rs)
        if -1 in rs:  # drop programs that do not rank the applicant
            keep = [k for k, r in enumerate(rs) if r >= 0]
            ps = [ps[k] for k in keep]
            rs = [rs[k] for k in keep]
        pref_p.append(ps)
        pref_r.append(rs)
    group_index: dict[str, int] = {}
    for a in instance.applicants:
        for g in a.groups:
            group_index.setdefault(g, len(group_index))
    for p in instance.programs:
        for res in p.reserved:
            group_index.setdefault(res.group, len(group_index))
    empty: frozenset[int] = frozenset()
    groups_of = [
        frozenset(group_index[g] for g in a.groups) if a.groups else empty
        for a in instance.applicants
    ]
    reserve = [
        tuple((group_index[r.group], r.seats) for r in p.reserved if r.seats > 0)
        for p in instance.programs
    ]
    quotas_of_prog: list[list[int]] = [[] for _ in instance.programs]
    for q, quota in enumerate(instance.quotas):
        for pid in quota.programs:
            quotas_of_prog[prog_index[pid]].append(q)
    return Compiled(
        instance=instance,
        app_ids=[a.id for a in instance.applicants],
        prog_ids=[p.id for p in instance.programs],
        cap=[p.capacity for p in instance.programs],
        prog_app=prog_app,
        rank_of=rank_of,
        pref_p=pref_p,
        pref_r=pref_r,
        app_prog=app_prog,
        app_rank=app_rank,
        couple_of=couple_of,
        couple_members=couple_members,
        couple_options=couple_options,
        reserve=reserve,
        groups_of=groups_of,
        quota_cap=[q.capacity for q in instance.quotas],
        quota_progs=[frozenset(prog_index[x] for x in q.programs) for q in instance.quotas],
        quota_prio=[{app_index[x]: k for k, x in enumerate(q.applicants)} for q in instance.quotas],
        quotas_of_prog=[tuple(qs) for qs in quotas_of_prog],
    )


@dataclass(slots=True)
class Outcome:
    """Raw solver output on indices, consumed by explain.build_result."""

    assign: list[int]  # applicant -> program or UNMATCHED
    members: list[list[int]]  # program -> sorted rank positions of its admitted applicants
    proposals: int
    chases: int
    cycled: bool  # the chase revisited a state (or hit its bound): stopped
    seconds: float
    market: _Market | None  # the general machine, when used (for the stability check)


def _plain_da(c: Compiled, who: list[int]) -> tuple[list[list[int]], list[int], int]:
    """Deferred acceptance for singles ``who`` with capacities only.

    Returns per-program max-heaps (negated rank positions), the proposal pointers
    and the number of proposals.
    """
    cap = c.cap
    prog_app = c.prog_app
    pref_p = c.pref_p
    pref_r = c.pref_r
    heaps: list[list[int]] = [[] for _ in cap]
    ptr = [0] * len(pref_p)
    push = heapq.heappush
    replace = heapq.heapreplace
    proposals = 0
    for start in who:
        i = start
        while True:
            ps = pref_p[i]
            k = ptr[i]
            n = len(ps)
            placed = False
            while k < n:
                j = ps[k]
                r = pref_r[i][k]
                k += 1
                proposals += 1
                h = heaps[j]
                if len(h) < cap[j]:
                    push(h, -r)
                    placed = True
                    break
                if h and -h[0] > r:
                    worst = -replace(h, -r)
                    ptr[i] = k
                    i = prog_app[j][worst]
                    break
            else:
                ptr[i] = k
                break
            if placed:
                ptr[i] = k
                break
    return heaps, ptr, proposals


class _Market:
    """General state: admitted sets, quota counts, proposal pointers, the chase."""

    def __init__(self, c: Compiled) -> None:
        self.c = c
        n = len(c.app_ids)
        self.assign = [UNMATCHED] * n
        self.members: list[list[int]] = [[] for _ in c.cap]
        self.qmembers: list[set[int]] = [set() for _ in c.quota_cap]
        self.ptr = [0] * n
        self.cptr = [0] * len(c.couple_members)
        self.copt = [len(opts) for opts in c.couple_options]  # current option index
        self.singles: list[int] = []
        self.couples: deque[int] = deque()
        self.queued_couple = [False] * len(c.couple_members)
        self.dirty: set[int] = set()
        self.hash = 0
        self.proposals = 0
        self.pref_index: dict[int, dict[int, int]] = {}
        self.couples_of_prog: list[list[int]] = [[] for _ in c.cap]
        for k, options in enumerate(c.couple_options):
            seen: set[int] = set()
            for j1, j2 in options:
                for j in (j1, j2):
                    if j >= 0 and j not in seen:
                        seen.add(j)
                        self.couples_of_prog[j].append(k)

    # --- state changes -------------------------------------------------
    @staticmethod
    def _mix(i: int, j: int) -> int:
        x = ((i + 1) * 0x9E3779B97F4A7C15 + (j + 2) * 0xC2B2AE3D27D4EB4F) & _MASK
        x ^= x >> 31
        return (x * 0xBF58476D1CE4E5B9) & _MASK

    def _quotas_for(self, i: int, j: int) -> list[int]:
        prio = self.c.quota_prio
        return [q for q in self.c.quotas_of_prog[j] if i in prio[q]]

    def join(self, i: int, j: int) -> None:
        self.assign[i] = j
        members = self.members[j]
        r = self.c.rank_of[j][i]
        if not members or members[-1] < r:
            members.append(r)
        else:
            members.insert(self._bisect(members, r), r)
        for q in self._quotas_for(i, j):
            self.qmembers[q].add(i)
        self.hash ^= self._mix(i, j)

    @staticmethod
    def _bisect(values: list[int], x: int) -> int:
        lo, hi = 0, len(values)
        while lo < hi:
            mid = (lo + hi) // 2
            if values[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def leave(self, i: int) -> None:
        j = self.assign[i]
        if j == UNMATCHED:
            return
        self.assign[i] = UNMATCHED
        self.members[j].remove(self.c.rank_of[j][i])
        self.dirty.add(j)
        for q in self._quotas_for(i, j):
            self.qmembers[q].discard(i)
            self.dirty.update(self.c.quota_progs[q])
        self.hash ^= self._mix(i, j)

    # --- choice ---------------------------------------------------------
    def choose(self, j: int, ranks: list[int]) -> list[int]:
        """Rank positions (sorted) the program keeps: reserved seats, then open seats."""
        cap = self.c.cap[j]
        if len(ranks) <= cap:
            return ranks
        reserve = self.c.reserve[j]
        if not reserve:
            return ranks[:cap]
        prog_app = self.c.prog_app[j]
        groups_of = self.c.groups_of
        chosen: set[int] = set()
        for group, seats in reserve:
            left = seats
            for r in ranks:
                if left == 0:
                    break
                if r not in chosen and group in groups_of[prog_app[r]]:
                    chosen.add(r)
                    left -= 1
        left = cap - len(chosen)
        for r in ranks:
            if left == 0:
                break
            if r not in chosen:
                chosen.add(r)
                left -= 1
        return [r for r in ranks if r in chosen]

    def evaluate(
        self, moves: list[tuple[int, int]], movers: tuple[int, ...]
    ) -> tuple[int, int, list[int]]:
        """Would the programs (and quotas) take ``moves`` if ``movers`` left their seats?

        Returns ``(ADMITTED, -1, victims)`` or ``(BY_PROGRAM, j, [])`` /
        ``(BY_QUOTA, q, [])`` naming the first refusal.
        """
        c = self.c
        victims: list[int] = []
        targets: dict[int, list[int]] = {}
        for i, j in moves:
            targets.setdefault(j, []).append(c.rank_of[j][i])
        for j, incoming in targets.items():
            prog_app = c.prog_app[j]
            current = self.members[j]
            if any(self.assign[m] == j for m in movers):
                current = [r for r in current if prog_app[r] not in movers]
            if len(current) + len(incoming) <= c.cap[j]:
                continue
            ranks = sorted(current + incoming)
            kept = self.choose(j, ranks)
            if len(kept) < len(ranks):
                kept_set = set(kept)
                if any(r not in kept_set for r in incoming):
                    return BY_PROGRAM, j, []
                victims.extend(prog_app[r] for r in ranks if r not in kept_set)
        if c.quota_cap:
            gone = set(victims)
            gone.update(movers)
            entering: dict[int, list[int]] = {}
            for i, j in moves:
                for q in self._quotas_for(i, j):
                    entering.setdefault(q, []).append(i)
            for q in sorted(entering):
                incoming_q = entering[q]
                held = [x for x in self.qmembers[q] if x not in gone]
                if len(held) + len(incoming_q) <= c.quota_cap[q]:
                    continue
                prio = c.quota_prio[q]
                ordered = sorted(held + incoming_q, key=prio.__getitem__)
                dropped = ordered[c.quota_cap[q] :]
                if any(i in dropped for i in incoming_q):
                    return BY_QUOTA, q, []
                victims.extend(dropped)
                gone.update(dropped)
        return ADMITTED, -1, victims

    def apply(
        self, moves: list[tuple[int, int]], movers: tuple[int, ...], victims: list[int]
    ) -> None:
        for i in movers:
            self.leave(i)
        for v in victims:
            if self.assign[v] == UNMATCHED:
                continue
            k = self.c.couple_of[v]
            if k < 0:
                self.leave(v)
                self.singles.append(v)
            else:
                self._withdraw(k)
        for i, j in moves:
            self.join(i, j)

    def _withdraw(self, k: int) -> None:
        m1, m2 = self.c.couple_members[k]
        self.leave(m1)
        self.leave(m2)
        self.copt[k] = len(self.c.couple_options[k])
        if not self.queued_couple[k]:
            self.queued_couple[k] = True
            self.couples.append(k)

    # --- proposals ------------------------------------------------------
    def propose_single(self, i: int) -> None:
        ps = self.c.pref_p[i]
        while self.ptr[i] < len(ps):
            j = ps[self.ptr[i]]
            self.ptr[i] += 1
            self.proposals += 1
            status, _, victims = self.evaluate([(i, j)], (i,))
            if status == ADMITTED:
                self.apply([(i, j)], (i,), victims)
                return

    def _couple_moves(self, k: int, option: tuple[int, int]) -> list[tuple[int, int]]:
        m1, m2 = self.c.couple_members[k]
        moves = []
        if option[0] >= 0:
            moves.append((m1, option[0]))
        if option[1] >= 0:
            moves.append((m2, option[1]))
        return moves

    def propose_couple(self, k: int, start: int, stop: int) -> bool:
        """Try options ``start..stop-1`` in order; take the first the programs admit."""
        options = self.c.couple_options[k]
        movers = self.c.couple_members[k]
        for o in range(start, stop):
            option = options[o]
            if option[0] == -2:
                continue
            self.proposals += 1
            moves = self._couple_moves(k, option)
            status, _, victims = self.evaluate(moves, movers)
            if status == ADMITTED:
                self.apply(moves, movers, victims)
                self.copt[k] = o
                self.cptr[k] = o + 1
                return True
        return False

    def run_queue(self, limit: int) -> bool:
        """Process displaced applicants until none is left; False if ``limit`` is hit."""
        while self.singles or self.couples:
            if self.proposals > limit:
                return False
            if self.singles:
                self.propose_single(self.singles.pop())
                continue
            k = self.couples.popleft()
            self.queued_couple[k] = False
            if not self.propose_couple(k, self.cptr[k], len(self.c.couple_options[k])):
                self.cptr[k] = len(self.c.couple_options[k])
        return True

    # --- the chase ------------------------------------------------------
    def _position(self, i: int, j: int) -> int:
        """Position of program ``j`` in applicant ``i``'s acceptable list, or -1."""
        index = self.pref_index.get(i)
        if index is None:
            index = {p: k for k, p in enumerate(self.c.pref_p[i])}
            self.pref_index[i] = index
        return index.get(j, -1)

    def current_position(self, i: int) -> int:
        j = self.assign[i]
        return len(self.c.pref_p[i]) if j == UNMATCHED else self._position(i, j)

    def find_blocker(self, j: int) -> tuple[int, int] | None:
        """A single (0, i) or couple (1, k) that would rather be in program ``j`` and could."""
        c = self.c
        for i in c.prog_app[j]:
            if c.couple_of[i] >= 0 or self.assign[i] == j:
                continue
            if 0 <= self._position(i, j) < self.current_position(i):
                status, _, _ = self.evaluate([(i, j)], (i,))
                if status == ADMITTED:
                    return 0, i
        for k in self.couples_of_prog[j]:
            options = c.couple_options[k]
            movers = c.couple_members[k]
            for o in range(self.copt[k]):
                option = options[o]
                if j not in option or option[0] == -2:
                    continue
                status, _, _ = self.evaluate(self._couple_moves(k, option), movers)
                if status == ADMITTED:
                    return 1, k
        return None

    def chase(self, limit: int, max_chases: int) -> tuple[int, bool]:
        """Satisfy blocking pairs at programs that lost applicants; detect cycles."""
        seen = {self.hash}
        chases = 0
        while self.dirty:
            j = min(self.dirty)
            blocker = self.find_blocker(j)
            if blocker is None:
                self.dirty.discard(j)
                continue
            chases += 1
            kind, who = blocker
            if kind == 0:
                stop = self.current_position(who)
                ps = self.c.pref_p[who]
                for pos in range(stop):
                    self.proposals += 1
                    status, _, victims = self.evaluate([(who, ps[pos])], (who,))
                    if status == ADMITTED:
                        self.apply([(who, ps[pos])], (who,), victims)
                        self.ptr[who] = pos + 1
                        break
            else:
                self.propose_couple(who, 0, self.copt[who])
            if not self.run_queue(limit) or chases >= max_chases:
                return chases, True
            if self.hash in seen:
                return chases, True
            seen.add(self.hash)
        return chases, False


def solve_compiled(c: Compiled) -> Outcome:
    """Run the engine on a compiled instance (the timed part)."""
    started = time.perf_counter()
    n = len(c.app_ids)
    singles = [i for i in range(n) if c.couple_of[i] < 0]
    total_ranks = sum(len(p) for p in c.pref_p) + sum(len(o) for o in c.couple_options)
    limit = 50 * total_ranks + 10_000
    max_chases = 20 * n + 1_000
    if c.plain and not c.couple_members:
        heaps, _, proposals = _plain_da(c, singles)
        assign = [UNMATCHED] * n
        members: list[list[int]] = []
        for j, h in enumerate(heaps):
            ranks = sorted(-x for x in h)
            members.append(ranks)
            app = c.prog_app[j]
            for r in ranks:
                assign[app[r]] = j
        seconds = time.perf_counter() - started
        return Outcome(assign, members, proposals, 0, False, seconds, None)
    market = _Market(c)
    if c.plain:
        heaps, ptr, market.proposals = _plain_da(c, singles)
        for j, h in enumerate(heaps):
            for x in h:
                market.join(c.prog_app[j][-x], j)
        market.ptr = ptr
        market.dirty.clear()
    else:
        market.singles = singles[::-1]
        market.run_queue(limit)
    market.couples.extend(range(len(c.couple_members)))
    market.queued_couple = [True] * len(c.couple_members)
    cycled = not market.run_queue(limit)
    chases = 0
    if not cycled:
        chases, cycled = market.chase(limit, max_chases)
    seconds = time.perf_counter() - started
    return Outcome(market.assign, market.members, market.proposals, chases, cycled, seconds, market)
