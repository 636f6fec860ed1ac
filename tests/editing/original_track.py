"""The original track the editing tests edit: generated once with its project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from soundstar.engine.options import EngineOptions
from soundstar.pipeline import GenerateRequest, generate
from soundstar.project import Project, load_project

PROMPT = "an upbeat synthwave track with pulsing bass and dreamy pads"


class Original:
    """The original track: its folder, project file, project and audio (channels, n)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.project_file = folder / "a.json"
        self.audio_file = folder / "a.wav"
        generate(
            GenerateRequest(
                prompt=PROMPT,
                output_path=self.audio_file,
                project_path=self.project_file,
                seed=7,
                duration_seconds=30,
            ),
            engine=EngineOptions(),
        )
        self.project: Project = load_project(self.project_file)
        data, _ = sf.read(str(self.audio_file), dtype="float32", always_2d=True)
        self.audio: np.ndarray = np.ascontiguousarray(data.T)
