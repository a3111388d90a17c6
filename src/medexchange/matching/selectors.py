"""Reads of match cycles: ranking orders, the engine instance, results and their figures.

The engine knows opaque ids only. One **person** is one engine applicant, ``u<user pk>``,
whose ranks are the sessions of their applications in the cycle, in their order: an
applicant with three applications in the cycle is matched to at most one of them. Each
session is one program, ``p<session pk>``, with the places still free (capacity minus
the placements held) and the host's ranking of its applicants. ``MatchRun.key`` maps
each (person, session) back to the application.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, FloatField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medexchange.agreements.selectors import match_quota_caps
from medexchange.applications.models import Application, ReviewScore
from medexchange.applications.selectors import seats_taken_by_session
from medexchange.catalog.models import Session
from medexchange.matching.choices import RankSide
from medexchange.matching.models import MatchCycle, MatchRun, Ranking
from medexchange.network.choices import EmStatus

#: The group whose members reserved places are held for.
EM_PRIORITY_GROUP = "em_priority"
#: Countries where Emergency Medicine is not yet established.
EM_PRIORITY_STATUSES = frozenset({EmStatus.NOT_RECOGNISED, EmStatus.EMERGING})


def person_id(user_id: int) -> str:
    return f"u{user_id}"


def program_id(session_id: int) -> str:
    return f"p{session_id}"


def session_of(program: str) -> int:
    return int(program.removeprefix("p"))


def canonical_json(data: Any) -> str:
    """The one text of ``data`` that is hashed, stored and exported."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- orders


def cycle_sessions(cycle: MatchCycle) -> list[Session]:
    return list(cycle.sessions.select_related("opportunity__host").order_by("pk"))


def _with_scores(queryset: QuerySet[Application]) -> QuerySet[Application]:
    """The review queue's weighted score (``applications.selectors.queue_for_session``)."""
    per_application = (
        ReviewScore.objects.filter(application=OuterRef("pk")).order_by().values("application")
    )
    weighted = per_application.annotate(
        value=100
        * Sum(Cast("score", FloatField()) * Cast("criterion__weight", FloatField()))
        / Sum(Cast("criterion__max_score", FloatField()) * Cast("criterion__weight", FloatField()))
    ).values("value")
    return queryset.annotate(weighted_score=Subquery(weighted, output_field=FloatField()))


def _positions(cycle: MatchCycle, side: str, application_ids: Iterable[int]) -> dict[int, Any]:
    """Application id → stored position (None: left unranked) of one side's ranking."""
    return dict(
        Ranking.objects.filter(
            cycle=cycle, side=side, application_id__in=list(application_ids)
        ).values_list("application_id", "position")
    )


def applicant_order(cycle: MatchCycle, user: Any) -> list[Application]:
    """The user's applications in the cycle, most wanted first.

    Until the applicant reorders them, the order is that of submission; an application
    that reached the host later joins at the end.
    """
    applications = list(
        cycle.applications()
        .filter(applicant=user)
        .select_related("session__opportunity__host")
        .order_by("submitted_at", "pk")
    )
    return order_applicant_side(
        applications, _positions(cycle, RankSide.APPLICANT, _ids(applications))
    )


def order_applicant_side(
    applications: Sequence[Application], positions: dict[int, Any]
) -> list[Application]:
    stored = sorted(
        (a for a in applications if positions.get(a.pk) is not None),
        key=lambda a: (positions[a.pk], a.pk),
    )
    return stored + [a for a in applications if positions.get(a.pk) is None]


def _ids(applications: Iterable[Application]) -> list[int]:
    return [application.pk for application in applications]


@dataclass
class HostOrder:
    ranked: list[Application]
    unranked: list[Application]


def host_order(cycle: MatchCycle, session: Session) -> HostOrder:
    """The host's ranking of a session's applicants, starting from the review scores.

    Until the host changes it, applicants are ranked by their weighted review score,
    highest first (unscored last, then by arrival); applicants who arrive later join
    at the end of the ranked list in the same order.
    """
    applications = list(
        _with_scores(cycle.applications().filter(session=session))
        .select_related("applicant", "home_country", "home_institution")
        .order_by(F("weighted_score").desc(nulls_last=True), F("reached_host_at").asc(), "pk")
    )
    return order_host_side(applications, _positions(cycle, RankSide.HOST, _ids(applications)))


def order_host_side(applications: Sequence[Application], positions: dict[int, Any]) -> HostOrder:
    """``applications`` come in score order; stored positions go first, then the rest."""
    stored = sorted(
        (a for a in applications if positions.get(a.pk) is not None),
        key=lambda a: (positions[a.pk], a.pk),
    )
    fresh = [a for a in applications if a.pk not in positions]
    unranked = [a for a in applications if a.pk in positions and positions[a.pk] is None]
    return HostOrder(ranked=stored + fresh, unranked=unranked)


# --------------------------------------------------------------------------- the instance


@dataclass
class BuiltInstance:
    data: dict[str, Any]
    text: str
    hash: str
    #: person id → {program id → application pk}
    key: dict[str, dict[str, int]]


def build_instance(cycle: MatchCycle) -> BuiltInstance:
    """The engine instance of the cycle as its rankings and places now stand."""
    sessions = cycle_sessions(cycle)
    taken = seats_taken_by_session(s.pk for s in sessions)
    applications = list(
        _with_scores(cycle.applications())
        .select_related("home_country")
        .order_by(F("weighted_score").desc(nulls_last=True), F("reached_host_at").asc(), "pk")
    )
    rows = Ranking.objects.filter(cycle=cycle, application_id__in=_ids(applications))
    applicant_positions: dict[int, Any] = {}
    host_positions: dict[int, Any] = {}
    for application_id, side, position in rows.values_list("application_id", "side", "position"):
        (applicant_positions if side == RankSide.APPLICANT else host_positions)[application_id] = (
            position
        )

    by_person: dict[int, list[Application]] = defaultdict(list)
    by_session: dict[int, list[Application]] = defaultdict(list)
    for application in applications:
        assert application.applicant_id is not None  # noqa: S101 - cycle.applications()
        by_person[application.applicant_id].append(application)
        by_session[application.session_id].append(application)

    key: dict[str, dict[str, int]] = {}
    applicants: list[dict[str, Any]] = []
    for user_id in sorted(by_person):
        own = sorted(by_person[user_id], key=lambda a: (a.submitted_at, a.pk))
        ordered = order_applicant_side(own, applicant_positions)
        pid = person_id(user_id)
        key[pid] = {program_id(a.session_id): a.pk for a in ordered}
        entry: dict[str, Any] = {"id": pid, "ranks": [program_id(a.session_id) for a in ordered]}
        country = own[0].home_country
        if cycle.reserved_places and country and country.em_status in EM_PRIORITY_STATUSES:
            entry["groups"] = [EM_PRIORITY_GROUP]
        applicants.append(entry)

    programs: list[dict[str, Any]] = []
    for session in sessions:
        capacity = max(0, session.capacity - taken.get(session.pk, 0))
        order = order_host_side(by_session.get(session.pk, []), host_positions)
        program: dict[str, Any] = {
            "id": program_id(session.pk),
            "capacity": capacity,
            "ranks": [person_id(a.applicant_id) for a in order.ranked if a.applicant_id],
        }
        reserved = min(cycle.reserved_places, capacity)
        if reserved:
            program["reserved"] = {EM_PRIORITY_GROUP: reserved}
        programs.append(program)

    data: dict[str, Any] = {"applicants": applicants, "programs": programs}
    # Agreements enforce their quotas when applications are submitted; the caps keep a
    # match from overrunning what seats and offers outside the cycle left.
    caps = match_quota_caps(sessions=sessions, applications=applications)
    if caps:
        person_of = {a.pk: person_id(a.applicant_id) for a in applications if a.applicant_id}
        known_programs = {program_id(s.pk) for s in sessions}
        quotas = []
        for cap in caps:
            members = list(
                dict.fromkeys(person_of[pk] for pk in cap.application_ids if pk in person_of)
            )
            places = [program_id(pk) for pk in cap.session_ids if program_id(pk) in known_programs]
            if members and places:
                quotas.append(
                    {
                        "id": f"q-{cap.id}",
                        "capacity": max(0, int(cap.capacity)),
                        "programs": places,
                        "applicants": members,
                    }
                )
        if quotas:
            data["quotas"] = quotas
    text = canonical_json(data)
    return BuiltInstance(data=data, text=text, hash=sha256(text), key=key)


# --------------------------------------------------------------------------- statistics


def run_statistics(
    instance: dict[str, Any], result: dict[str, Any], key: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Fill rate, first choices, unmatched people, and who would send and receive how many.

    The first-choice rate is the share of all ranked people placed at their first choice.
    """
    places = sum(program["capacity"] for program in instance["programs"])
    matching: dict[str, str | None] = result["matching"]
    explained = result.get("explanations", {}).get("applicants", {})
    placed = [(person, program) for person, program in matching.items() if program is not None]
    first = sum(1 for person, _program in placed if explained.get(person, {}).get("rank") == 1)
    application_ids = [key[person][program] for person, program in placed]
    facts = {
        row["pk"]: row
        for row in Application.objects.filter(pk__in=application_ids).values(
            "pk", "home_country__code", "home_institution_id", "session__opportunity__host_id"
        )
    }
    countries: Counter[str] = Counter()
    homes: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    for pk in application_ids:
        row = facts.get(pk)
        if row is None:
            continue
        countries[row["home_country__code"] or ""] += 1
        homes[str(row["home_institution_id"] or "")] += 1
        hosts[str(row["session__opportunity__host_id"])] += 1
    people = len(matching)
    return {
        "people": people,
        "places": places,
        "placed": len(placed),
        "fill_rate": round(100 * len(placed) / places, 1) if places else None,
        "first_choice": first,
        "first_choice_rate": round(100 * first / people, 1) if people else None,
        "unmatched": [person for person, program in matching.items() if program is None],
        "stable": bool(result.get("stable", True)),
        "by_home_country": dict(sorted(countries.items())),
        "by_home_institution": dict(sorted(homes.items())),
        "by_host": dict(sorted(hosts.items())),
    }


@dataclass
class BalanceRow:
    label: str
    count: int


def balance_rows(statistics: dict[str, Any]) -> dict[str, list[BalanceRow]]:
    """The balance effects with names: home countries and institutions send, hosts receive."""
    from django_countries import countries as country_names

    from medexchange.network.models import Institution

    institution_ids = {
        int(pk)
        for part in ("by_home_institution", "by_host")
        for pk in statistics.get(part, {})
        if pk
    }
    names = dict(Institution.objects.filter(pk__in=institution_ids).values_list("pk", "name"))
    unknown = _("Not given")

    def rows(part: str, label: Any) -> list[BalanceRow]:
        found = [BalanceRow(label(k), n) for k, n in statistics.get(part, {}).items()]
        return sorted(found, key=lambda row: (-row.count, row.label))

    return {
        "countries": rows(
            "by_home_country", lambda k: country_names.name(k) or k if k else unknown
        ),
        "homes": rows("by_home_institution", lambda k: names.get(int(k), k) if k else unknown),
        "hosts": rows("by_host", lambda k: names.get(int(k), k)),
    }


# --------------------------------------------------------------------------- reading results


def result_of(run: MatchRun) -> dict[str, Any]:
    return json.loads(run.result_json) if run.result_json else {}


def instance_of(run: MatchRun) -> dict[str, Any]:
    return json.loads(run.instance_json) if run.instance_json else {}


def session_labels(program_ids: Iterable[str]) -> dict[str, str]:
    ids = [session_of(p) for p in program_ids]
    sessions = Session.objects.filter(pk__in=ids).select_related("opportunity__host")
    return {
        program_id(
            s.pk
        ): f"{s.opportunity.title}, {s.opportunity.host.name} ({s.start_date:%Y-%m-%d})"
        for s in sessions
    }


def person_names(person_ids: Iterable[str]) -> dict[str, str]:
    from medexchange.accounts.models import User

    ids = [int(p.removeprefix("u")) for p in person_ids]
    return {person_id(user.pk): str(user) for user in User.objects.filter(pk__in=ids)}


def explanation_sentences(entry: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """The engine's explanation of one person's outcome, in the active language.

    Each ``Loss`` reason becomes one sentence about a session ranked above the one
    obtained (all of them when unmatched), in the person's order.
    """
    sentences: list[str] = []
    obtained = entry.get("obtained")
    if obtained:
        sentences.append(
            _("You are matched to %(session)s, your choice number %(rank)d.")
            % {"session": labels.get(obtained, obtained), "rank": entry.get("rank") or 0}
        )
    else:
        sentences.append(_("You are not matched to any of the sessions you ranked."))
    for loss in entry.get("lost", []):
        for item in loss.get("programs", [loss]) if "option" in loss else [loss]:
            sentences.append(loss_sentence(item, labels))
    return sentences


def loss_sentence(loss: dict[str, Any], labels: dict[str, str]) -> str:
    """One lost session, in plain words (see docs/match-cycles.md)."""
    session = labels.get(loss["program"], loss["program"])
    reason = loss.get("reason")
    if reason == "not_ranked":
        return _("%(session)s: the host did not rank you, so it could not take you.") % {
            "session": session
        }
    if reason == "full":
        if loss.get("last_admitted_rank") is None:
            return _("%(session)s: it had no place left.") % {"session": session}
        sentence = _(
            "%(session)s: its places went to applicants the host ranked higher: you were "
            "number %(your_rank)d on its list, the last admitted was number %(last)d."
        ) % {
            "session": session,
            "your_rank": loss.get("your_rank") or 0,
            "last": loss["last_admitted_rank"],
        }
        reserved = int(loss.get("reserved") or 0)
        if reserved:
            sentence += " " + ngettext(
                "%(count)d place was reserved for applicants from countries where "
                "Emergency Medicine is not yet established.",
                "%(count)d places were reserved for applicants from countries where "
                "Emergency Medicine is not yet established.",
                reserved,
            ) % {"count": reserved}
        return sentence
    if reason == "quota":
        return _(
            "%(session)s: the exchange quota between your institution and the host was "
            "used up by %(ahead)d applicants nominated before you."
        ) % {"session": session, "ahead": int(loss.get("ahead") or 0)}
    return _(
        "%(session)s: it would have taken you, but no stable match could include it "
        "(the organisers have been told)."
    ) % {"session": session}


@dataclass
class PersonResult:
    """One person's outcome in a run, with the application it concerns."""

    person: str
    name: str
    obtained: str | None
    obtained_label: str
    application_id: int | None
    sentences: list[str] = field(default_factory=list)


def person_result(run: MatchRun, user: Any) -> PersonResult | None:
    """The user's own result and explanation, or None if they were not in the run."""
    if not user.is_authenticated:
        return None
    pid = person_id(user.pk)
    result = result_of(run)
    if pid not in result.get("matching", {}):
        return None
    entry = result.get("explanations", {}).get("applicants", {}).get(pid, {})
    programs = list(run.key.get(pid, {}))
    labels = session_labels(programs)
    obtained = result["matching"][pid]
    return PersonResult(
        person=pid,
        name=str(user),
        obtained=obtained,
        obtained_label=labels.get(obtained, "") if obtained else "",
        application_id=run.key.get(pid, {}).get(obtained) if obtained else None,
        sentences=explanation_sentences(entry, labels),
    )


@dataclass
class SessionResult:
    session: Session
    places: int
    filled: int
    unfilled: int
    last_admitted_rank: int | None
    admitted: list[str]


def session_results(run: MatchRun, sessions: Iterable[Session]) -> list[SessionResult]:
    """For each session: who was admitted (in the host's order), the rank of the last one
    admitted, and the places left unfilled."""
    result = result_of(run)
    programs = result.get("explanations", {}).get("programs", {})
    capacities = {p["id"]: p["capacity"] for p in instance_of(run).get("programs", [])}
    chosen = list(sessions)
    names = person_names(
        person for s in chosen for person in programs.get(program_id(s.pk), {}).get("admitted", [])
    )
    rows = []
    for session in chosen:
        pid = program_id(session.pk)
        if pid not in capacities:
            continue
        explained = programs.get(pid, {})
        admitted = explained.get("admitted", [])
        rows.append(
            SessionResult(
                session=session,
                places=capacities[pid],
                filled=len(admitted),
                unfilled=capacities[pid] - len(admitted),
                last_admitted_rank=explained.get("last_admitted_rank"),
                admitted=[names.get(person, person) for person in admitted],
            )
        )
    return rows


@dataclass
class Change:
    name: str
    before: str
    after: str


@dataclass
class Comparison:
    figures: list[tuple[str, Any, Any]]
    changes: list[Change]


def run_comparison(run: MatchRun, earlier: MatchRun) -> Comparison:
    """Two runs of a cycle side by side, and the people whose outcome differs."""
    now, then = run.statistics, earlier.statistics
    figures = [
        (_("Places"), then.get("places"), now.get("places")),
        (_("People ranked"), then.get("people"), now.get("people")),
        (_("Placed"), then.get("placed"), now.get("placed")),
        (_("Fill rate (%)"), then.get("fill_rate"), now.get("fill_rate")),
        (_("At their first choice"), then.get("first_choice"), now.get("first_choice")),
        (_("First-choice rate (%)"), then.get("first_choice_rate"), now.get("first_choice_rate")),
        (_("Unmatched"), len(then.get("unmatched", [])), len(now.get("unmatched", []))),
    ]
    before = result_of(earlier).get("matching", {})
    after = result_of(run).get("matching", {})
    people = sorted(set(before) | set(after), key=lambda p: int(p.removeprefix("u")))
    differing = [p for p in people if before.get(p) != after.get(p)]
    labels = session_labels({x for p in differing for x in (before.get(p), after.get(p)) if x})
    names = person_names(differing)
    unmatched = _("Unmatched")
    absent = _("Not in this run")

    def label(side: dict[str, Any], person: str) -> str:
        if person not in side:
            return absent
        return labels.get(side[person], side[person]) if side[person] else unmatched

    changes = [Change(names.get(p, p), label(before, p), label(after, p)) for p in differing]
    return Comparison(figures=figures, changes=changes)


def unmatched_people(run: MatchRun) -> list[str]:
    """Names of the people left unmatched, for the organisers."""
    names = person_names(run.statistics.get("unmatched", []))
    return sorted(names.get(p, p) for p in run.statistics.get("unmatched", []))


def unfilled_sessions(cycle: MatchCycle) -> list[tuple[Session, int]]:
    """Sessions of the cycle with places neither taken nor offered now (the post-match
    round's list)."""
    from medexchange.applications.choices import ApplicationState

    sessions = cycle_sessions(cycle)
    taken = seats_taken_by_session(s.pk for s in sessions)
    offered = Counter(
        Application.objects.filter(
            session__in=sessions, state=ApplicationState.OFFERED
        ).values_list("session_id", flat=True)
    )
    free = [(s, s.capacity - taken.get(s.pk, 0) - offered.get(s.pk, 0)) for s in sessions]
    return [(session, places) for session, places in free if places > 0]


def participant_counts(cycle: MatchCycle) -> dict[int, int]:
    """Session id → applications taking part, in one query."""
    return Counter(cycle.applications().values_list("session_id", flat=True))
