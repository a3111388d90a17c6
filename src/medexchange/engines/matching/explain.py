"""Turn the solver's outcome into a :class:`Result`: matching, explanations, stability.

For instances with couples or quotas (the general machine) every applicant's
better-ranked options are re-evaluated against the final state; any option the
programs would grant is a blocking pair, listed under ``instability``. The same
pass writes the explanations: :class:`Result` objects (:func:`build_result`, then
:func:`result_to_json`), or for the command line the compact JSON bytes directly
(:func:`outcome_to_bytes`, the same bytes as ``json.dumps`` of ``result_to_json``).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Sequence
from json.encoder import encode_basestring as _quote
from typing import Any

from .model import (
    ApplicantExplanation,
    BlockingPair,
    Explanations,
    Loss,
    OptionLoss,
    ProgramExplanation,
    QuotaExplanation,
    Result,
    Stats,
)
from .solve import ADMITTED, BY_PROGRAM, UNMATCHED, Compiled, Outcome, _Market

ENGINE_VERSION = "1.0.0"


def _single_loss(c: Compiled, out: Outcome, i: int, j: int, movers: tuple[int, ...]) -> Loss:
    """Why applicant ``i`` is not in program ``j`` in the final state."""
    pid = c.prog_ids[j]
    r = c.rank_of[j].get(i)
    if r is None:
        return Loss(pid, "not_ranked")
    members = out.members[j]
    last = members[-1] + 1 if members else None
    market = out.market
    if market is None:
        if len(members) >= c.cap[j] and (not members or members[-1] < r):
            return Loss(pid, "full", r + 1, last)
        return Loss(pid, "blocking")
    status, where, _ = market.evaluate([(i, j)], movers)
    if status == ADMITTED:
        return Loss(pid, "admits" if len(movers) > 1 else "blocking")
    if status == BY_PROGRAM:
        # Every admitted applicant stays; those ranked below ``i`` hold reserved seats.
        return Loss(pid, "full", r + 1, last, len(members) - bisect_right(members, r))
    prio = c.quota_prio[where]
    mine = prio[i]
    ahead = sum(1 for x in market.qmembers[where] if prio[x] < mine)
    return Loss(
        pid, "quota", quota=c.instance.quotas[where].id, your_priority=mine + 1, ahead=ahead
    )


def _explain(
    c: Compiled, out: Outcome, *, explain: bool, as_text: bool
) -> tuple[list[BlockingPair], dict[str, Any]]:
    """The stability check and, if ``explain``, every applicant's explanation.

    Explanations are :class:`ApplicantExplanation` objects, or with ``as_text`` the
    compact JSON text of each applicant's entry, exactly as ``json.dumps`` of
    :func:`result_to_json` writes it (the command line: a string per loss instead
    of a tuple, a dict and its serialization), in the instance's applicant order.
    """
    inst = c.instance
    app_ids, prog_ids = c.app_ids, c.prog_ids
    assign = out.assign
    market = out.market
    blocking: list[BlockingPair] = []
    app_expl: dict[str, Any] = {}
    if not explain and market is None:
        return blocking, app_expl  # deferred acceptance alone: stable, nothing to check
    prog_index = {p: j for j, p in enumerate(prog_ids)}
    # A program with capacities only (no reserves, no quota) rejects exactly the
    # applicants ranked below its last admitted one when full (cutoff: that rank
    # position; all of them when it has no place), and takes any other: no
    # re-evaluation. -2 marks the programs that need the general machine.
    cutoff: list[int] = []
    last: list[int | None] = []
    for j, m in enumerate(out.members):
        last.append(m[-1] + 1 if m else None)
        if c.reserve[j] or c.quotas_of_prog[j]:
            cutoff.append(-2)
        elif len(m) >= c.cap[j]:
            cutoff.append(m[-1] if m else -1)
        else:
            cutoff.append(len(c.prog_app[j]))
    general = [cut == -2 for cut in cutoff]
    any_general = any(general)
    not_ranked = [Loss(pid, "not_ranked") for pid in prog_ids]
    if as_text:  # the constant parts of each program's losses, as JSON text
        quoted = [_quote(pid) for pid in prog_ids]
        not_ranked_text = [f'{{"program":{q},"reason":"not_ranked"}}' for q in quoted]
        full_head = [f'{{"program":{q},"reason":"full","your_rank":' for q in quoted]
        full_tail = [f',"last_admitted_rank":{"null" if x is None else x}}}' for x in last]
        obtained_text = dict(enumerate(quoted))
        obtained_text[UNMATCHED] = "null"
    app_prog, app_rank = c.app_prog, c.app_rank
    couple_of = c.couple_of
    blocked: list[int] = []

    def block(j: int) -> Any:  # rare: a blocking pair, found inside a comprehension
        blocked.append(j)
        loss = Loss(prog_ids[j], "blocking")
        return _loss_text(loss) if as_text else loss

    for i, aid in enumerate(app_ids):
        if couple_of[i] >= 0:
            continue
        ps = app_prog[i]
        obtained = assign[i]
        if obtained == UNMATCHED:
            n, rank = len(ps), None
        else:
            n = ps.index(obtained)
            rank = n + 1
        rs = app_rank[i]
        before = ps[:n]
        losses: list[Any]
        if any_general and any(general[j] for j in before):
            losses = []
            for j, r in zip(before, rs, strict=False):
                if r < 0:
                    loss = not_ranked[j]
                elif general[j]:
                    loss = _single_loss(c, out, i, j, (i,))
                elif r > cutoff[j]:
                    loss = Loss(prog_ids[j], "full", r + 1, last[j])
                else:
                    loss = Loss(prog_ids[j], "blocking")
                if loss.reason == "blocking":
                    blocked.append(j)
                losses.append(_loss_text(loss) if as_text else loss)
        elif as_text:
            losses = [
                not_ranked_text[j]
                if r < 0
                else f"{full_head[j]}{r + 1}{full_tail[j]}"
                if r > cutoff[j]
                else block(j)
                for j, r in zip(before, rs, strict=False)
            ]
        else:
            losses = [
                not_ranked[j]
                if r < 0
                else Loss(prog_ids[j], "full", r + 1, last[j])
                if r > cutoff[j]
                else block(j)
                for j, r in zip(before, rs, strict=False)
            ]
        if blocked:
            blocking.extend(
                BlockingPair(applicants=(aid,), programs=(prog_ids[j],)) for j in blocked
            )
            blocked.clear()
        if not explain:
            continue
        obtained_id = None if obtained == UNMATCHED else prog_ids[obtained]
        if as_text:
            app_expl[aid] = (
                f'{_quote(aid)}:{{"obtained":{obtained_text[obtained]},"rank":'
                f'{"null" if rank is None else rank},"lost":[{",".join(losses)}]}}'
            )
        else:
            app_expl[aid] = ApplicantExplanation(obtained_id, rank, tuple(losses))
    for k, couple in enumerate(inst.couples):
        movers = c.couple_members[k]
        current = (assign[movers[0]], assign[movers[1]])
        options: list[OptionLoss] = []
        rank = None
        for o, option in enumerate(c.couple_options[k]):
            if option == current:
                rank = o + 1
                break
            names = couple.ranks[o]
            per_program: list[Loss] = []
            for member, j in zip(movers, option, strict=True):
                if j >= 0:
                    per_program.append(_single_loss(c, out, member, j, movers))
                elif j == -2:  # an option not mutually acceptable
                    break
            if option[0] == -2:
                per_program = [
                    _single_loss(c, out, member, prog_index[name], movers)
                    for member, name in zip(movers, names, strict=True)
                    if name is not None
                ]
            elif isinstance(market, _Market):
                moves = [(m, j) for m, j in zip(movers, option, strict=True) if j >= 0]
                if market.evaluate(moves, movers)[0] == ADMITTED:
                    blocking.append(BlockingPair(applicants=couple.members, programs=names))
                    per_program = [Loss(x.program, "blocking") for x in per_program]
            options.append(OptionLoss(option=names, programs=tuple(per_program)))
        if not explain:
            continue
        for member, member_id in zip(movers, couple.members, strict=True):
            j = assign[member]
            obtained_id = None if j == UNMATCHED else prog_ids[j]
            if as_text:
                entry = {
                    "obtained": obtained_id,
                    "rank": rank,
                    "lost": [_loss_json(x) for x in options],
                }
                app_expl[member_id] = f"{_quote(member_id)}:{_text(entry)}"
            else:
                app_expl[member_id] = ApplicantExplanation(obtained_id, rank, tuple(options))
    if explain and inst.couples:
        app_expl = {a: app_expl[a] for a in app_ids}
    return blocking, app_expl


def _matching(c: Compiled, out: Outcome) -> tuple[dict[str, str | None], dict[str, int]]:
    prog_ids = c.prog_ids
    matching = {
        a: (None if j == UNMATCHED else prog_ids[j])
        for a, j in zip(c.app_ids, out.assign, strict=True)
    }
    unfilled = {
        prog_ids[j]: c.cap[j] - len(m) for j, m in enumerate(out.members) if c.cap[j] > len(m)
    }
    return matching, unfilled


def _stats(c: Compiled, out: Outcome) -> Stats:
    return Stats(
        applicants=len(c.app_ids),
        matched=sum(1 for j in out.assign if j != UNMATCHED),
        proposals=out.proposals,
        seconds=out.seconds,
        chases=out.chases,
    )


def _stable(out: Outcome, blocking: list[BlockingPair]) -> bool:
    return not blocking and not (out.cycled and out.market is None)


def _admitted(c: Compiled, out: Outcome, j: int) -> list[str]:
    app, app_ids = c.prog_app[j], c.app_ids
    return [app_ids[app[x]] for x in out.members[j]]


def _placed(c: Compiled, out: Outcome, q: int) -> list[str]:
    market = out.market
    if market is None:
        return []
    return [c.app_ids[x] for x in sorted(market.qmembers[q], key=c.quota_prio[q].__getitem__)]


def build_result(c: Compiled, out: Outcome, *, explain: bool = True) -> Result:
    matching, unfilled = _matching(c, out)
    blocking, app_expl = _explain(c, out, explain=explain, as_text=False)
    explanations = None
    if explain:
        programs = {
            c.prog_ids[j]: ProgramExplanation(
                capacity=c.cap[j],
                filled=len(m),
                last_admitted_rank=m[-1] + 1 if m else None,
                admitted=tuple(_admitted(c, out, j)),
            )
            for j, m in enumerate(out.members)
        }
        quotas = {
            quota.id: QuotaExplanation(capacity=quota.capacity, placed=tuple(_placed(c, out, q)))
            for q, quota in enumerate(c.instance.quotas)
        }
        explanations = Explanations(applicants=app_expl, programs=programs, quotas=quotas)
    return Result(
        matching=matching,
        unfilled=unfilled,
        stats=_stats(c, out),
        stable=_stable(out, blocking),
        instability=tuple(blocking),
        explanations=explanations,
    )


def _text(data: Any) -> str:
    """Compact JSON text, as the command line writes it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _stdlib_dumps(data: Any) -> bytes:
    return _text(data).encode("utf-8")


_orjson_dumps: Callable[[Any], bytes] | None
try:  # a project dependency: the same bytes as _stdlib_dumps for this data, faster
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - installed with the project
    _orjson_dumps = None


def _dumps(data: Any) -> bytes:
    if _orjson_dumps is not None:
        try:
            return _orjson_dumps(data)
        except TypeError:  # e.g. an integer beyond 64 bits: the stdlib writes it
            pass
    return _stdlib_dumps(data)


def outcome_to_bytes(
    c: Compiled, out: Outcome, *, explain: bool = True, timing: bool = True
) -> bytes:
    """``json.dumps(result_to_json(build_result(c, out, explain=...)), ensure_ascii=False,
    separators=(",", ":"))`` in UTF-8, without building the result's objects.

    The command line's path on NRMP-sized instances: every applicant's explanation is
    written as text directly; ``orjson`` (or the stdlib) serializes the rest. Both give
    the stdlib's compact bytes for this data (strings, ints, booleans, null), the
    float of ``stats.seconds`` aside.
    """
    matching, unfilled = _matching(c, out)
    blocking, app_expl = _explain(c, out, explain=explain, as_text=True)
    head = _dumps(
        _head(matching, unfilled, _stable(out, blocking), blocking, _stats(c, out), timing)
    )
    if not explain:
        return head
    programs = {
        c.prog_ids[j]: {
            "capacity": c.cap[j],
            "filled": len(m),
            "last_admitted_rank": m[-1] + 1 if m else None,
            "admitted": _admitted(c, out, j),
        }
        for j, m in enumerate(out.members)
    }
    quotas = {
        quota.id: {"capacity": quota.capacity, "placed": _placed(c, out, q)}
        for q, quota in enumerate(c.instance.quotas)
    }
    return b"".join(
        [
            head[:-1],
            b',"explanations":{"applicants":{',
            ",".join(app_expl.values()).encode("utf-8"),
            b'},"programs":',
            _dumps(programs),
            b',"quotas":',
            _dumps(quotas),
            b"}}",
        ]
    )


def _loss_text(loss: Loss) -> str:
    return _text(_loss_json(loss))


def _loss_json(loss: Loss | OptionLoss) -> dict[str, Any]:
    if isinstance(loss, OptionLoss):
        return {"option": list(loss.option), "programs": [_loss_json(x) for x in loss.programs]}
    reason = loss.reason
    if reason == "full":
        if loss.reserved:
            return {
                "program": loss.program,
                "reason": reason,
                "your_rank": loss.your_rank,
                "last_admitted_rank": loss.last_admitted_rank,
                "reserved": loss.reserved,
            }
        return {
            "program": loss.program,
            "reason": reason,
            "your_rank": loss.your_rank,
            "last_admitted_rank": loss.last_admitted_rank,
        }
    if reason == "quota":
        return {
            "program": loss.program,
            "reason": reason,
            "quota": loss.quota,
            "your_priority": loss.your_priority,
            "ahead": loss.ahead,
        }
    return {"program": loss.program, "reason": reason}


def _head(
    matching: dict[str, str | None],
    unfilled: dict[str, int],
    stable: bool,
    instability: Sequence[BlockingPair],
    stats: Stats,
    timing: bool,
) -> dict[str, Any]:
    stats_json: dict[str, Any] = {
        "applicants": stats.applicants,
        "matched": stats.matched,
        "proposals": stats.proposals,
        "chases": stats.chases,
    }
    if timing:
        stats_json["seconds"] = round(stats.seconds, 6)
    return {
        "engine_version": ENGINE_VERSION,
        "matching": matching,
        "unfilled": unfilled,
        "stable": stable,
        "instability": [
            {"applicants": list(b.applicants), "programs": list(b.programs)} for b in instability
        ],
        "stats": stats_json,
    }


def result_to_json(result: Result, *, timing: bool = True) -> dict[str, Any]:
    """The result as JSON-ready data in a fixed key order; floats only in stats.seconds."""
    data = _head(
        result.matching,
        result.unfilled,
        result.stable,
        result.instability,
        result.stats,
        timing,
    )
    expl = result.explanations
    if expl is not None:
        data["explanations"] = {
            "applicants": {
                a: {
                    "obtained": e.obtained,
                    "rank": e.rank,
                    "lost": [
                        # The common case inline: a plain ``full`` loss (no reserved seats).
                        {
                            "program": x[0],
                            "reason": "full",
                            "your_rank": x[2],
                            "last_admitted_rank": x[3],
                        }
                        if type(x) is Loss and x[1] == "full" and not x[4]
                        else _loss_json(x)
                        for x in e.lost
                    ],
                }
                for a, e in expl.applicants.items()
            },
            "programs": {
                p: {
                    "capacity": e.capacity,
                    "filled": e.filled,
                    "last_admitted_rank": e.last_admitted_rank,
                    "admitted": list(e.admitted),
                }
                for p, e in expl.programs.items()
            },
            "quotas": {
                q: {"capacity": e.capacity, "placed": list(e.placed)}
                for q, e in expl.quotas.items()
            },
        }
    return data
