"""Turn the solver's outcome into a :class:`Result`: matching, explanations, stability.

For instances with couples or quotas (the general machine) every applicant's
better-ranked options are re-evaluated against the final state; any option the
programs would grant is a blocking pair, listed under ``instability``. The same
pass writes the explanations.
"""

from __future__ import annotations

from typing import Any

from .model import (
    ApplicantExplanation,
    BlockingPair,
    Explanations,
    Loss,
    OptionLoss,
    ProgramExplanation,
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
        return Loss(program=pid, reason="not_ranked")
    members = out.members[j]
    app = c.prog_app[j]
    market = out.market
    if market is None:
        if len(members) >= c.cap[j] and (not members or members[-1] < r):
            return Loss(
                program=pid, reason="full", preferred=tuple(c.app_ids[app[x]] for x in members)
            )
        return Loss(program=pid, reason="blocking")
    status, where, _ = market.evaluate([(i, j)], movers)
    if status == ADMITTED:
        return Loss(program=pid, reason="admits" if len(movers) > 1 else "blocking")
    if status == BY_PROGRAM:
        return Loss(
            program=pid,
            reason="full",
            preferred=tuple(c.app_ids[app[x]] for x in members if x < r),
            reserved=tuple(c.app_ids[app[x]] for x in members if x > r),
        )
    prio = c.quota_prio[where]
    mine = prio[i]
    better = sorted((x for x in market.qmembers[where] if prio[x] < mine), key=prio.__getitem__)
    return Loss(
        program=pid,
        reason="quota",
        quota=c.instance.quotas[where].id,
        preferred=tuple(c.app_ids[x] for x in better),
    )


def build_result(c: Compiled, out: Outcome, *, explain: bool = True) -> Result:
    inst = c.instance
    app_ids, prog_ids = c.app_ids, c.prog_ids
    assign = out.assign
    matching = {
        a: (None if j == UNMATCHED else prog_ids[j]) for a, j in zip(app_ids, assign, strict=True)
    }
    unfilled = {
        prog_ids[j]: c.cap[j] - len(m) for j, m in enumerate(out.members) if c.cap[j] > len(m)
    }
    market = out.market
    check = market is not None
    blocking: list[BlockingPair] = []
    app_expl: dict[str, ApplicantExplanation] = {}
    if explain or check:
        prog_index = {p: j for j, p in enumerate(prog_ids)}
        rank_of = c.rank_of
        # A program with capacities only (no reserves, no quota) rejects exactly the
        # applicants ranked below its last admitted one when full, and every admitted
        # applicant is preferred: one shared Loss per such program, no re-evaluation.
        plain_full: list[Loss | None] = []
        cutoff: list[int] = []
        for j, m in enumerate(out.members):
            if c.reserve[j] or c.quotas_of_prog[j]:
                plain_full.append(None)
                cutoff.append(-1)
                continue
            full = len(m) >= c.cap[j]
            cutoff.append((m[-1] if m else -1) if full else len(c.prog_app[j]))
            app = c.prog_app[j]
            plain_full.append(
                Loss(
                    program=prog_ids[j], reason="full", preferred=tuple(app_ids[app[x]] for x in m)
                )
            )
        for i, applicant in enumerate(inst.applicants):
            if c.couple_of[i] >= 0:
                continue
            obtained = matching[applicant.id]
            losses: list[Loss | OptionLoss] = []
            rank = None
            for k, pid in enumerate(applicant.ranks):
                if pid == obtained:
                    rank = k + 1
                    break
                j = prog_index[pid]
                shared = plain_full[j]
                if shared is None:
                    loss = _single_loss(c, out, i, j, (i,))
                else:
                    r = rank_of[j].get(i)
                    if r is None:
                        loss = Loss(program=pid, reason="not_ranked")
                    elif r > cutoff[j]:
                        loss = shared
                    else:
                        loss = Loss(program=pid, reason="blocking")
                if loss.reason == "blocking":
                    blocking.append(BlockingPair(applicants=(applicant.id,), programs=(pid,)))
                losses.append(loss)
            if explain:
                app_expl[applicant.id] = ApplicantExplanation(obtained, rank, tuple(losses))
        for k, couple in enumerate(inst.couples):
            movers = c.couple_members[k]
            current = (assign[movers[0]], assign[movers[1]])
            losses = []
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
                        per_program = [
                            Loss(program=x.program, reason="blocking") for x in per_program
                        ]
                losses.append(OptionLoss(option=names, programs=tuple(per_program)))
            if explain:
                for member_id in couple.members:
                    app_expl[member_id] = ApplicantExplanation(
                        matching[member_id], rank, tuple(losses)
                    )
    explanations = None
    if explain:
        programs = {
            prog_ids[j]: ProgramExplanation(
                capacity=c.cap[j], filled=len(m), last_admitted_rank=m[-1] + 1 if m else None
            )
            for j, m in enumerate(out.members)
        }
        ordered = {a: app_expl[a] for a in app_ids}
        explanations = Explanations(applicants=ordered, programs=programs)
    stable = not blocking and not (out.cycled and not check)
    stats = Stats(
        applicants=len(app_ids),
        matched=sum(1 for j in assign if j != UNMATCHED),
        proposals=out.proposals,
        seconds=out.seconds,
        chases=out.chases,
    )
    return Result(
        matching=matching,
        unfilled=unfilled,
        stats=stats,
        stable=stable,
        instability=tuple(blocking),
        explanations=explanations,
    )


def _loss_json(loss: Loss | OptionLoss) -> dict[str, Any]:
    if isinstance(loss, OptionLoss):
        return {"option": list(loss.option), "programs": [_loss_json(x) for x in loss.programs]}
    out: dict[str, Any] = {"program": loss.program, "reason": loss.reason}
    if loss.reason == "full":
        out["preferred"] = list(loss.preferred)
        if loss.reserved:
            out["reserved"] = list(loss.reserved)
    elif loss.reason == "quota":
        out["quota"] = loss.quota
        out["preferred"] = list(loss.preferred)
    return out


def result_to_json(result: Result, *, timing: bool = True) -> dict[str, Any]:
    """The result as JSON-ready data in a fixed key order; floats only in stats.seconds."""
    stats: dict[str, Any] = {
        "applicants": result.stats.applicants,
        "matched": result.stats.matched,
        "proposals": result.stats.proposals,
        "chases": result.stats.chases,
    }
    if timing:
        stats["seconds"] = round(result.stats.seconds, 6)
    data: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "matching": result.matching,
        "unfilled": result.unfilled,
        "stable": result.stable,
        "instability": [
            {"applicants": list(b.applicants), "programs": list(b.programs)}
            for b in result.instability
        ],
        "stats": stats,
    }
    if result.explanations is not None:
        data["explanations"] = {
            "applicants": {
                a: {
                    "obtained": e.obtained,
                    "rank": e.rank,
                    "lost": [_loss_json(x) for x in e.lost],
                }
                for a, e in result.explanations.applicants.items()
            },
            "programs": {
                p: {
                    "capacity": e.capacity,
                    "filled": e.filled,
                    "last_admitted_rank": e.last_admitted_rank,
                }
                for p, e in result.explanations.programs.items()
            },
        }
    return data
