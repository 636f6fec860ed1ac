"""The one rule that says whether an instrument falls under what a person left out."""

from __future__ import annotations

from soundstar.knowledge.records import Instrument
from soundstar.models import Exclusions


def excludes(exclusions: Exclusions, inst: Instrument, role: str) -> bool:
    """True when `inst` playing `role` is left out: by id or the instrument it is a kind of
    ("without piano": no electric piano either), by family, or by role ("no drums" also
    silences every drum and percussion part)."""
    if inst.id in exclusions.instruments or inst.family in exclusions.families:
        return True
    if inst.variant_of is not None and inst.variant_of in exclusions.instruments:
        return True
    roles = {str(r) for r in exclusions.roles}
    if role in roles:
        return True
    return "drums" in roles and (role in ("drums", "percussion") or inst.drum)
