"""JSON (already decoded) → :class:`Instance`, validating as it goes.

Every problem raises :class:`InstanceError` whose message starts with the JSON
path of the first offending value, e.g. ``programs[12].capacity: must be a
non-negative integer``.
"""

from __future__ import annotations

from collections.abc import KeysView, Sequence
from typing import Any, NamedTuple

from .model import Applicant, Couple, Instance, InstanceError, Program, QuotaGroup, Reserve

_TOP_KEYS = frozenset({"applicants", "programs", "couples", "quotas"})


def _fail(path: str, message: str) -> InstanceError:
    return InstanceError(f"{path}: {message}")


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "must be an object")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "must be a list")
    return value


def _count(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _fail(path, "must be a non-negative integer")
    return value


def _id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(path, "must be a non-empty string")
    return value


def _id_list(
    value: Any, path: str, known: Sequence[str] | set[str] | KeysView[str], kind: str
) -> tuple[str, ...]:
    """A list of known ids without repeats; the fast path is all set operations."""
    items = _list(value, path)
    try:
        as_set = set(items)
    except TypeError:  # an unhashable item: find it below
        as_set = set()
    if len(as_set) == len(items) and as_set.issubset(known):
        return tuple(items)
    seen: set[str] = set()
    for k, item in enumerate(items):
        if not isinstance(item, str):
            raise _fail(f"{path}[{k}]", f"must be a {kind} id (string)")
        if item not in known:
            raise _fail(f"{path}[{k}]", f"unknown {kind} id {item!r}")
        if item in seen:
            raise _fail(f"{path}[{k}]", f"repeated {kind} id {item!r}")
        seen.add(item)
    raise AssertionError("unreachable")  # pragma: no cover


def _indices(value: Any, index: dict[str, int]) -> list[int] | None:
    """The indices of a list of known ids without repeats, or None (any problem).

    One lookup per item and no path string: the caller names the problem with
    :func:`_id_list` only when this fails.
    """
    if not isinstance(value, list):
        return None
    try:
        found = list(map(index.__getitem__, value))
    except (KeyError, TypeError):  # an unknown or unhashable item
        return None
    return found if len(set(found)) == len(found) else None


def _unique_ids(items: list[Any], section: str) -> dict[str, int]:
    """Each item's id, to its index; paths are only formatted for a problem."""
    ids: list[Any] = []
    for item in items:
        ids.append(item.get("id") if isinstance(item, dict) else None)
    index = {ident: k for k, ident in enumerate(ids) if isinstance(ident, str) and ident}
    if len(index) == len(ids):
        return index
    seen: set[str] = set()
    for k, item in enumerate(items):
        obj = _object(item, f"{section}[{k}]")
        ident = _id(obj.get("id"), f"{section}[{k}].id")
        if ident in seen:
            raise _fail(f"{section}[{k}].id", f"repeated id {ident!r}")
        seen.add(ident)
    raise AssertionError("unreachable")  # pragma: no cover


class Indexed(NamedTuple):
    """An instance with the integer rank lists found while validating it."""

    instance: Instance
    program_ranks: list[list[int]]  # program -> applicant indices, by rank
    applicant_ranks: list[list[int]]  # applicant -> program indices, by preference


def parse_instance(data: Any) -> Instance:
    """Validate decoded JSON and build the instance (see docs/matching-engine.md)."""
    return parse_indexed(data).instance


def parse_indexed(data: Any) -> Indexed:
    """:func:`parse_instance`, keeping the index lists for ``compile_instance``."""
    top = _object(data, "$")
    for key in top:
        if key not in _TOP_KEYS:
            raise _fail(str(key), "unknown key")
    raw_applicants = _list(top.get("applicants"), "applicants")
    raw_programs = _list(top.get("programs"), "programs")
    applicant_index = _unique_ids(raw_applicants, "applicants")
    program_index = _unique_ids(raw_programs, "programs")
    applicant_ids = list(applicant_index)
    program_ids = list(program_index)
    applicant_set = applicant_index.keys()
    program_set = program_index.keys()

    applicants: list[Applicant] = []
    applicant_ranks: list[list[int]] = []
    for k, raw in enumerate(raw_applicants):
        ranks = raw.get("ranks", [])
        indices = _indices(ranks, program_index)
        if indices is None:
            _id_list(ranks, f"applicants[{k}].ranks", program_set, "program")
            raise AssertionError("unreachable")  # pragma: no cover
        applicant_ranks.append(indices)
        groups: tuple[str, ...] = ()
        if "groups" in raw:
            path = f"applicants[{k}]"
            group_list = _list(raw["groups"], f"{path}.groups")
            for g, group in enumerate(group_list):
                _id(group, f"{path}.groups[{g}]")
            if len(set(group_list)) != len(group_list):
                raise _fail(f"{path}.groups", "repeated group")
            groups = tuple(group_list)
        applicants.append(Applicant(id=applicant_ids[k], ranks=tuple(ranks), groups=groups))

    programs: list[Program] = []
    program_ranks: list[list[int]] = []
    for k, raw in enumerate(raw_programs):
        capacity = raw.get("capacity")
        if type(capacity) is not int or capacity < 0:  # bool is not int here either
            _count(capacity, f"programs[{k}].capacity")
        ranks = raw.get("ranks", [])
        indices = _indices(ranks, applicant_index)
        if indices is None:
            _id_list(ranks, f"programs[{k}].ranks", applicant_set, "applicant")
            raise AssertionError("unreachable")  # pragma: no cover
        program_ranks.append(indices)
        reserved: tuple[Reserve, ...] = ()
        if "reserved" in raw:
            path = f"programs[{k}]"
            seats_by_group = _object(raw["reserved"], f"{path}.reserved")
            for group, seats in seats_by_group.items():
                _id(group, f"{path}.reserved")
                _count(seats, f"{path}.reserved.{group}")
            if sum(seats_by_group.values()) > capacity:
                raise _fail(f"{path}.reserved", "reserved seats exceed the capacity")
            reserved = tuple(Reserve(group=g, seats=s) for g, s in sorted(seats_by_group.items()))
        programs.append(
            Program(id=program_ids[k], capacity=capacity, ranks=tuple(ranks), reserved=reserved)
        )

    couples: list[Couple] = []
    in_couple: set[str] = set()
    for k, raw in enumerate(_list(top.get("couples", []), "couples")):
        path = f"couples[{k}]"
        obj = _object(raw, path)
        members = _list(obj.get("members"), f"{path}.members")
        if len(members) != 2:
            raise _fail(f"{path}.members", "must list exactly two applicants")
        for m, member in enumerate(members):
            if not isinstance(member, str) or member not in applicant_set:
                raise _fail(f"{path}.members[{m}]", f"unknown applicant id {member!r}")
            if member in in_couple:
                raise _fail(f"{path}.members[{m}]", f"applicant {member!r} is already in a couple")
            in_couple.add(member)
        options: list[tuple[str | None, str | None]] = []
        seen_options: set[tuple[str | None, str | None]] = set()
        for o, raw_option in enumerate(_list(obj.get("ranks", []), f"{path}.ranks")):
            opath = f"{path}.ranks[{o}]"
            pair = _list(raw_option, opath)
            if len(pair) != 2:
                raise _fail(opath, "must be a pair [program or null, program or null]")
            for m, program in enumerate(pair):
                if program is not None and (
                    not isinstance(program, str) or program not in program_set
                ):
                    raise _fail(f"{opath}[{m}]", f"unknown program id {program!r}")
            option = (pair[0], pair[1])
            if option == (None, None):
                raise _fail(opath, "must name at least one program")
            if option in seen_options:
                raise _fail(opath, "repeated option")
            seen_options.add(option)
            options.append(option)
        couples.append(Couple(members=(members[0], members[1]), ranks=tuple(options)))

    quotas: list[QuotaGroup] = []
    quota_ids: set[str] = set()
    for k, raw in enumerate(_list(top.get("quotas", []), "quotas")):
        path = f"quotas[{k}]"
        obj = _object(raw, path)
        ident = _id(obj.get("id"), f"{path}.id")
        if ident in quota_ids:
            raise _fail(f"{path}.id", f"repeated id {ident!r}")
        quota_ids.add(ident)
        quotas.append(
            QuotaGroup(
                id=ident,
                capacity=_count(obj.get("capacity"), f"{path}.capacity"),
                programs=_id_list(obj.get("programs"), f"{path}.programs", program_set, "program"),
                applicants=_id_list(
                    obj.get("applicants"), f"{path}.applicants", applicant_set, "applicant"
                ),
            )
        )
    instance = Instance(
        applicants=tuple(applicants),
        programs=tuple(programs),
        couples=tuple(couples),
        quotas=tuple(quotas),
    )
    return Indexed(instance, program_ranks, applicant_ranks)
