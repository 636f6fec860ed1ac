"""The ear: is a render heard as the genre and the instruments that were asked for?

Two taggers that no one here wrote, trained on real recordings (musicnn 0.1.0's MSD model,
Million Song Dataset tags, and its MTT model, MagnaTagATune tags), listen to 20 s renders
of the dev prompts that state a genre and of a bounded sample of MusicCaps captions whose
aspects name one. Reported per render variant (the default engine: SoundFont sampler for
acoustic instruments with DDSP for the rest; DDSP alone; optionally another SoundFont):
- genre: the rank of the asked genre's family among each model's genre tags (top-1,
  top-3), overall and per family; families a model has no tag for are left out of its
  figures (MTT has no jazz or hip-hop tag).
- instruments: each instrument tag's ROC AUC between the renders whose words ask for it
  (`auc_asked`: an instrument the prompt names, by GM program; drums or percussion) and
  those that do not, and between the renders whose score plays it (`auc`: by GM program,
  or a drum track, the style's own lineup included) and those that do not.
The taggers answer to singing and rapping (MSD's Hip-Hop, rnb and soul tags are learnt
from songs with vocals); Soundstar sings no words, so those families are marked `sung`.
The taggers run in a benchmark-only environment, benchmarks/.cache/ear-venv, which this
script builds on first use (Python 3.11, tensorflow-cpu 2.15.1, numpy 1.26.4, librosa
0.10.2.post1, musicnn 0.1.0 with --no-deps because its metadata pins an old numpy); the
package never imports it. Renders are kept under benchmarks/.cache/ear/ to listen to.
Writes benchmarks/results/ear.json.
Run: .venv/bin/python -m benchmarks.ear [--captions N] [--variants soundfont,ddsp,musescore]
     [--families hip_hop,rnb]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy.stats import rankdata

from benchmarks.common import ROOT, eval_dir, read_jsonl, write_results
from soundstar.aurora.pipeline import Aurora
from soundstar.config import EngineConfig
from soundstar.engine.composer import compose
from soundstar.engine.composer.arrange import on_drum_channel
from soundstar.engine.options import EngineOptions, engine_options_from_settings
from soundstar.engine.render import render_score
from soundstar.knowledge import KnowledgeBase, load_knowledge
from soundstar.models import MusicalParameters, Provenance, Score

CACHE = ROOT / "benchmarks" / ".cache"
ENV = CACHE / "ear-venv"
RENDERS = CACHE / "ear"
TAGGER = ROOT / "benchmarks" / "support" / "ear_tagger.py"
ENV_PACKAGES = ["tensorflow-cpu==2.15.1", "numpy==1.26.4", "librosa==0.10.2.post1", "soundfile"]
SECONDS = 20.0
SAMPLE_RATE = 44100
SEED = 0
MUSESCORE = Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3")

# Each Soundstar root genre, and the tags of each model that name it.
GENRE_TAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "MSD_musicnn": {
        "pop": ("pop", "indie pop"),
        "rock": ("rock", "alternative rock", "indie rock", "classic rock", "hard rock",
                 "Progressive rock", "alternative", "indie"),
        "metal": ("metal", "heavy metal"),
        "punk": ("punk",),
        "electronic": ("electronic", "electronica", "electro", "House", "dance"),
        "hip_hop": ("Hip-Hop",),
        "rnb": ("rnb", "soul"),
        "soul": ("soul", "rnb"),
        "funk": ("funk",),
        "jazz": ("jazz",),
        "blues": ("blues",),
        "country": ("country",),
        "folk": ("folk",),
        "ambient": ("ambient", "chillout"),
        "easy_listening": ("easy listening",),
    },
    "MTT_musicnn": {
        "pop": ("pop",),
        "rock": ("rock",),
        "metal": ("metal",),
        "electronic": ("electronic", "techno", "dance"),
        "country": ("country",),
        "classical": ("classical", "classic"),
        "cinematic": ("classical", "classic"),
        "ambient": ("ambient", "new age"),
        "world": ("indian",),
    },
}  # fmt: skip
# Families whose tags the taggers learnt mostly from singing or rapping.
SUNG = frozenset({"hip_hop", "rnb", "soul", "gospel"})
# Instrument tags, and the GM programs (0-based) whose tracks play them ("drums": a drum track).
INSTRUMENT_TAGS: dict[str, dict[str, tuple[int, ...]]] = {
    "MSD_musicnn": {"guitar": tuple(range(24, 32))},
    "MTT_musicnn": {
        "guitar": tuple(range(24, 32)),
        "piano": (0, 1, 2, 3),
        "drums": (),
        "strings": tuple(range(40, 52)),
        "violin": (40, 110),
        "cello": (42,),
        "harp": (46,),
        "flute": (72, 73, 74, 75),
        "sitar": (104,),
        "harpsichord": (6,),
        "synth": (38, 39, 50, 51, 62, 63, *range(80, 104)),
        "choir": (52, 53, 54),
    },
}
_SUFFIXES = ("song", "music", "track", "beat", "tune", "style", "feel", "vibe", "vibes")


def build_env() -> Path:
    """The tagger's interpreter, building its environment on first use."""
    python = ENV / "bin" / "python"
    probe = [str(python), "-c", "import musicnn, tensorflow, librosa"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    base = shutil.which("python3.11")
    if base is None:
        raise SystemExit("the ear needs python3.11 (tensorflow-cpu 2.15.1 has no wheel for newer)")
    subprocess.run([base, "-m", "venv", str(ENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *ENV_PACKAGES], check=True)
    subprocess.run([*pip, "--no-deps", "musicnn==0.1.0"], check=True)
    return python


def _root(kb: KnowledgeBase, genre_id: str) -> str:
    genre = kb.genres[genre_id]
    while genre.parent is not None:
        genre = kb.genres[genre.parent]
    return genre.id


def _named_genre(kb: KnowledgeBase, phrase: str) -> str | None:
    """The genre id a MusicCaps aspect names ('hip hop', 'a jazz song'), or None."""
    words = phrase.lower().removeprefix("a ").split()
    while words:
        found = kb.find_genre(" ".join(words))
        if found is not None:
            return found.id
        if words[-1] not in _SUFFIXES:
            return None
        words = words[:-1]
    return None


def select_prompts(kb: KnowledgeBase, captions: int) -> list[dict[str, Any]]:
    """Dev prompts that state a genre, then up to `captions` MusicCaps captions whose aspects
    name one, in file order, at most a tenth of them from any one family."""
    data = eval_dir()
    chosen: list[dict[str, Any]] = []
    for item in read_jsonl(data / "prompts.jsonl"):
        genres = [g for g in (kb.find_genre(n) for n in item["expect"].get("genre", [])) if g]
        if genres:
            chosen.append(
                {"id": item["id"], "prompt": item["prompt"], "family": _root(kb, genres[0].id)}
            )
    per_family: dict[str, int] = defaultdict(int)
    cap = max(1, captions // 10)
    taken = 0
    for item in read_jsonl(data / "external" / "musiccaps_captions.jsonl"):
        if taken >= captions:
            break
        named = [g for g in (_named_genre(kb, a) for a in item.get("aspects", [])) if g]
        if not named:
            continue
        family = _root(kb, named[0])
        if per_family[family] >= cap:
            continue
        per_family[family] += 1
        taken += 1
        chosen.append({"id": item["id"], "prompt": item["caption"], "family": family})
    return chosen


def _programs(score: Score) -> set[int]:
    """GM programs the score plays; -1 stands for a drum track."""
    return {-1 if t.is_drum else t.program for t in score.tracks if t.notes}


def _asked(params: MusicalParameters, kb: KnowledgeBase) -> set[int]:
    """GM programs of the instruments the words named (-1: drums or percussion)."""
    asked: set[int] = set()
    for spec in params.instrumentation:
        inst = kb.instruments.get(spec.name)
        if spec.provenance == Provenance.STATED and inst is not None:
            asked.add(-1 if on_drum_channel(inst) else inst.gm_program)
    return asked


def render_variant(
    name: str, prompts: list[dict[str, Any]], options: EngineOptions, kb: KnowledgeBase
) -> dict[str, Any]:
    """Render every prompt with `options` to benchmarks/.cache/ear/NAME/ID.wav (mono)."""
    folder = RENDERS / name
    folder.mkdir(parents=True, exist_ok=True)
    aurora = Aurora()
    seconds: list[float] = []
    notices: set[str] = set()
    for item in prompts:
        u = aurora.understand(item["prompt"], duration_seconds=SECONDS, check_length=False)
        score = compose(u.parameters, u.plan, seed=SEED)
        start = time.perf_counter()
        result = render_score(
            score, sample_rate=SAMPLE_RATE, seed=SEED, options=options
        )  # fmt: skip
        seconds.append(time.perf_counter() - start)
        notices.update(result.notices)
        path = folder / f"{item['id']}.wav"
        sf.write(path, result.audio.mean(axis=0), SAMPLE_RATE, subtype="PCM_16")
        item.setdefault("programs", sorted(_programs(score)))
        item.setdefault("asked", sorted(_asked(u.parameters, kb)))
        item.setdefault("parsed_genre", score.genre)
        item[f"wav_{name}"] = str(path)
    return {"median_render_s": round(float(np.median(seconds)), 3), "notices": sorted(notices)}


def _auc(positive: list[float], negative: list[float]) -> float | None:
    """ROC AUC (Mann-Whitney U, ties halved)."""
    if not positive or not negative:
        return None
    ranks = rankdata(np.concatenate([positive, negative]))
    u = float(np.sum(ranks[: len(positive)])) - len(positive) * (len(positive) + 1) / 2
    return round(u / (len(positive) * len(negative)), 3)


def _genre_figures(
    prompts: list[dict[str, Any]], tags: dict[str, dict[str, list[float]]],
    labels: dict[str, list[str]], variant: str,
) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    for model, families in GENRE_TAGS.items():
        genre_tags = sorted({t for ts in families.values() for t in ts})
        index = [labels[model].index(t) for t in genre_tags]
        ranks: dict[str, list[int]] = defaultdict(list)
        heard: dict[str, list[str]] = defaultdict(list)
        per_prompt: list[dict[str, Any]] = []
        for item in prompts:
            if item["family"] not in families:
                continue
            scores = np.array(tags[item[f"wav_{variant}"]][model])[index]
            order = [genre_tags[i] for i in np.argsort(-scores, kind="stable")]
            accepted = families[item["family"]]
            rank = 1 + min(order.index(t) for t in accepted)
            ranks[item["family"]].append(rank)
            heard[item["family"]].append(order[0])
            per_prompt.append({"id": item["id"], "family": item["family"], "rank": rank,
                               "heard_as": order[0]})  # fmt: skip
        every = [r for rs in ranks.values() for r in rs]
        out[model] = {
            "prompts": len(every),
            "top1": round(float(np.mean([r == 1 for r in every])), 3) if every else None,
            "top3": round(float(np.mean([r <= 3 for r in every])), 3) if every else None,
            "genre_tags": len(genre_tags),
            "families": {
                family: {
                    "n": len(rs),
                    "top1": round(float(np.mean([r == 1 for r in rs])), 3),
                    "top3": round(float(np.mean([r <= 3 for r in rs])), 3),
                    "mean_rank": round(float(np.mean(rs)), 2),
                    "heard_as": dict(sorted(_count(heard[family]).items(), key=lambda kv: -kv[1])),
                    **({"sung": True} if family in SUNG else {}),
                }
                for family, rs in sorted(ranks.items())
            },
            "per_prompt": per_prompt,
        }
        unsung = [r for f, rs in ranks.items() if f not in SUNG for r in rs]
        out[model]["top1_unsung"] = (
            round(float(np.mean([r == 1 for r in unsung])), 3) if unsung else None
        )
    return out


def _count(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for v in values:
        counts[v] += 1
    return dict(counts)


def _instrument_figures(
    prompts: list[dict[str, Any]], tags: dict[str, dict[str, list[float]]],
    labels: dict[str, list[str]], variant: str,
) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {}
    for model, instruments in INSTRUMENT_TAGS.items():
        out[model] = {}
        for tag, programs in instruments.items():
            column = labels[model].index(tag)
            wanted = set(programs) or {-1}
            pos: list[float] = []
            neg: list[float] = []
            asked: list[float] = []
            unasked: list[float] = []
            for item in prompts:
                score = tags[item[f"wav_{variant}"]][model][column]
                (pos if wanted & set(item["programs"]) else neg).append(score)
                (asked if wanted & set(item["asked"]) else unasked).append(score)
            out[model][tag] = {
                "auc": _auc(pos, neg), "playing": len(pos), "not": len(neg),
                "auc_asked": _auc(asked, unasked), "asked": len(asked),
            }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captions", type=int, default=60, help="MusicCaps captions (default 60)")
    parser.add_argument(
        "--variants", default="soundfont,ddsp",
        help="comma-separated: soundfont (the default engine), ddsp, musescore",
    )  # fmt: skip
    parser.add_argument(
        "--families", default="", help="comma-separated genre families to keep (default: all)"
    )
    args = parser.parse_args()
    python = build_env()
    kb = load_knowledge()
    prompts = select_prompts(kb, args.captions)
    if args.families:
        prompts = [p for p in prompts if p["family"] in args.families.split(",")]
    default = engine_options_from_settings(EngineConfig())
    if default.soundfont_path is None:
        raise SystemExit("no SoundFont installed: the default engine would be DDSP alone")
    options = {
        "soundfont": default,
        "ddsp": EngineOptions(soundfont_path=default.soundfont_path, mode="ddsp"),
        "musescore": EngineOptions(soundfont_path=MUSESCORE),
    }
    variants: dict[str, Any] = {}
    for name in args.variants.split(","):
        start = time.perf_counter()
        variants[name] = render_variant(name, prompts, options[name], kb)
        variants[name]["soundfont"] = str(options[name].soundfont_path)
        print(f"{name}: rendered {len(prompts)} in {time.perf_counter() - start:.0f} s", flush=True)
    listing = CACHE / "ear_files.json"
    tagged = CACHE / "ear_tags.json"
    files = [item[f"wav_{v}"] for item in prompts for v in variants]
    listing.write_text(json.dumps(files))
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([str(python), str(TAGGER), str(listing), str(tagged)], check=True, env=env)
    print(f"tagged {len(files)} files in {time.perf_counter() - start:.0f} s", flush=True)
    answer = json.loads(tagged.read_text())
    tags, labels = answer["tags"], answer["labels"]
    for name in variants:
        variants[name]["genre"] = _genre_figures(prompts, tags, labels, name)
        variants[name]["instruments"] = _instrument_figures(prompts, tags, labels, name)
    families = _count([p["family"] for p in prompts])
    path = write_results(
        "ear",
        {
            "seconds_per_render": SECONDS,
            "prompts": len(prompts),
            "families": dict(sorted(families.items())),
            "goals": {"genre_top1": 0.85, "instrument_auc": 0.85},
            "sung_families": sorted(SUNG),
            "variants": variants,
        },
    )
    for name, figures in variants.items():
        for model, genre in figures["genre"].items():
            print(f"{name} {model}: genre top1 {genre['top1']} top3 {genre['top3']} "
                  f"(unsung top1 {genre['top1_unsung']})")  # fmt: skip
        aucs = {t: v["auc"] for t, v in figures["instruments"]["MTT_musicnn"].items()}
        asked = {t: v["auc_asked"] for t, v in figures["instruments"]["MTT_musicnn"].items()}
        print(f"{name} instrument AUC (MTT), plays it: {aucs}")
        print(f"{name} instrument AUC (MTT), asked for: {asked}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
