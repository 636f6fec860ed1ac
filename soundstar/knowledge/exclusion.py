"""The one rule that says whether an instrument falls under what a person left out."""

from __future__ import annotations

from soundstar.knowledge.loader import load_knowledge
from soundstar.knowledge.records import Instrument
from soundstar.models import Exclusions, Role

_BEAT_ROLES = frozenset({Role.DRUMS, Role.PERCUSSION})


def excluded_as(inst: Instrument) -> frozenset[str]:
    """The instrument ids whose exclusion leaves `inst` out: itself, the instrument it is a
    kind of (`variant_of`: "without guitar" drops the distorted guitar) and those it, or that
    instrument, counts as (`counts_as`: "without piano" drops every electric piano)."""
    ids = {inst.id, *inst.counts_as}
    base = load_knowledge().instruments.get(inst.variant_of) if inst.variant_of else None
    if base is not None:
        ids |= {base.id, *base.counts_as}
    return frozenset(ids)


def excludes(exclusions: Exclusions, inst: Instrument, role: str) -> bool:
    """True when `inst` playing `role` is left out: by id, by family, or by role ("no drums"
    also silences every drum and percussion part and every kit piece)."""
    if excluded_as(inst) & set(exclusions.instruments) or inst.family in exclusions.families:
        return True
    roles = set(exclusions.roles)
    if role in roles:
        return True
    return Role.DRUMS in roles and (role in _BEAT_ROLES or inst.drum)
