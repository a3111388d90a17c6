"""Facts every model of a plan shares: where a participant may be, the objective's weights
and the fair shares of the balance. No solver here, so every module can import it."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Participant, Plan, Site


def speaks(site: Site, person: Participant) -> bool:
    """A site with no listed languages, or a participant with none, never blocks."""
    return not site.languages or not person.languages or bool(site.languages & person.languages)


def allowed(plan: Plan, p: int, s: int, t: int) -> bool:
    """Whether ``p`` may be at ``s`` in ``t`` at all (filters, not counted rules)."""
    person, site = plan.participants[p], plan.sites[s]
    return (
        t in person.periods
        and t not in site.closed
        and site.capacity[t] > 0
        and site.id not in person.must_not_visit
        and speaks(site, person)
    )


def fair_shares(plan: Plan) -> list[int] | None:
    """Each site's fair share of participant-periods (proportional to its open places),
    rounded as score_of rounds it; None when the balance does not count."""
    open_capacity = [
        sum(c for t, c in enumerate(site.capacity) if t not in site.closed) for site in plan.sites
    ]
    total = sum(open_capacity)
    if not plan.rules.balance or not total:
        return None
    presence = sum(len(person.periods) for person in plan.participants)
    return [round(presence * capacity / total) for capacity in open_capacity]


@dataclass(frozen=True, slots=True)
class Cells:
    """The cells a participant may occupy, computed once for every model.

    ``by_person[p]`` maps each period of ``p`` to the sites open to ``p`` then;
    ``weight[p]`` maps a site to the weight of visiting it as a wish (n - rank).
    """

    by_person: tuple[dict[int, tuple[int, ...]], ...]
    weight: tuple[dict[int, int], ...]

    @classmethod
    def of(cls, plan: Plan) -> Cells:
        site_index = {site.id: s for s, site in enumerate(plan.sites)}
        by_person: list[dict[int, tuple[int, ...]]] = []
        weights: list[dict[int, int]] = []
        for person in plan.participants:
            welcome = [
                s
                for s, site in enumerate(plan.sites)
                if site.id not in person.must_not_visit and speaks(site, person)
            ]
            by_person.append(
                {
                    t: tuple(
                        s
                        for s in welcome
                        if plan.sites[s].capacity[t] > 0 and t not in plan.sites[s].closed
                    )
                    for t in person.periods
                }
            )
            n = len(person.preferences)
            weights.append(
                {site_index[site_id]: n - rank for rank, site_id in enumerate(person.preferences)}
            )
        return cls(by_person=tuple(by_person), weight=tuple(weights))

    def sites_of(self, p: int) -> set[int]:
        """Every site open to ``p`` in at least one of their periods."""
        return {s for sites in self.by_person[p].values() for s in sites}
