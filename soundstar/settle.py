"""Where a control meets what the words stated: the one rule, applied before planning.

The words win. A valence or energy set against the value the prompt's words stated
(valence 0.1 for "a happy song") moves only within `stated_reach` of it; a key the person
stated or set keeps its mode, whatever the valence. Where Soundstar chose the key itself
(`MusicalParameters.key_chosen`), a valence at either end plays it in its parallel minor
or major. Every change, and every control kept from acting, is said in a notice.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from soundstar.engine.character_data import character_data
from soundstar.models import MusicalParameters, Notice, split_key

_WORDS = {"valence": "mood words", "energy_level": "energy words"}


class Settled(BaseModel):
    """The parameters with the rule applied, and what it changed or kept, said."""

    model_config = ConfigDict(extra="forbid")

    parameters: MusicalParameters
    notices: list[Notice]


def _mode_for(key: str, valence: float) -> str:
    """`key` in the mode the valence asks for, on its tonic: darker at low valence,
    brighter at high, itself in between."""
    tonic, mode = split_key(key)
    return f"{tonic} {character_data().valence.mode_for(mode, valence)}"


def settle(params: MusicalParameters) -> Settled:
    """`params` with each character control brought within reach of what the words
    stated, and the mode the valence asks for where Soundstar chose the key."""
    reach = character_data().stated_reach
    update: dict[str, object] = {}
    notices: list[Notice] = []
    for name in ("valence", "energy_level"):
        stated = getattr(params.stated, name)
        value = float(getattr(params, name))
        if stated is None or abs(value - stated) <= reach + 1e-9:
            continue
        kept = round(min(max(value, stated - reach), stated + reach), 3)
        update[name] = kept
        notices.append(
            Notice(
                level="info",
                message=f"{name} {value:.2f} goes against the prompt's {_WORDS[name]} "
                f"({stated:.2f}); what the prompt stated wins, so {name} is {kept:.2f}",
            )
        )
    valence = float(update.get("valence", params.valence))  # type: ignore[arg-type]
    wanted = _mode_for(params.key, valence)
    if wanted != params.key:
        chosen = params.key_chosen == params.key and not params.chord_progression
        if chosen:
            update["key"] = wanted
            update["key_chosen"] = wanted
            notices.append(
                Notice(
                    level="info",
                    message=f"played in {wanted} rather than {params.key} for valence "
                    f"{valence:.2f} (no key was stated)",
                )
            )
        else:
            notices.append(
                Notice(
                    level="info",
                    message=f"valence {valence:.2f} asks for {wanted}; the key "
                    f"{params.key} was stated, so it keeps its mode",
                )
            )
    if not update:
        return Settled(parameters=params, notices=notices)
    return Settled(parameters=params.model_copy(update=update), notices=notices)
