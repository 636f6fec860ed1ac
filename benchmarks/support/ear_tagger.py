"""The ear: musicnn's MSD and MTT taggers over a list of audio files, one tag vector per file.

Runs only inside the benchmark's own environment (benchmarks/.cache/ear-venv, built by
benchmarks/ear.py: Python 3.11, tensorflow-cpu 2.15.1, musicnn 0.1.0), never in the
package's. musicnn's own extractor restores its checkpoint inside a bare `except` and
would tag with an untrained net when the restore fails; here the restore is done with
tf.compat.v1's Saver directly, and a variable that still holds its initial value after it
is a loud failure. The front end is musicnn's (16 kHz, 512-point FFT, hop 256, 96 mel
bands, log10(1 + 10000 x)), over non-overlapping 3 s patches; a file's tags are the mean
over its patches.
Usage (inside that environment): python ear_tagger.py LIST.json OUT.json
LIST.json holds a list of audio paths; OUT.json gets {"labels": {model: [tag, ...]},
"tags": {path: {model: [probability, ...]}}}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import librosa
import numpy as np
import tensorflow as tf
from musicnn import configuration as config
from musicnn import models

MODELS = {"MSD_musicnn": config.MSD_LABELS, "MTT_musicnn": config.MTT_LABELS}
PATCH_S = 3
tf.compat.v1.disable_eager_execution()


def _patches(path: str, n_frames: int) -> np.ndarray:
    audio, sr = librosa.load(path, sr=config.SR)
    mel = librosa.feature.melspectrogram(
        y=audio, sr=sr, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE, n_mels=config.N_MELS
    ).T
    mel = np.log10(10000 * mel.astype(np.float16) + 1)
    starts = range(0, mel.shape[0] - n_frames + 1, n_frames)
    patches = [mel[s : s + n_frames] for s in starts]
    if not patches:
        raise SystemExit(f"{path}: shorter than one {PATCH_S} s patch")
    return np.stack(patches).astype(np.float32)


def _tag_with(model: str, paths: list[str]) -> dict[str, list[float]]:
    """Mean sigmoid tag probabilities per file, from `model`'s restored checkpoint."""
    labels = MODELS[model]
    n_frames = (
        librosa.time_to_frames(
            PATCH_S, sr=config.SR, n_fft=config.FFT_SIZE, hop_length=config.FFT_HOP
        )
        + 1
    )
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        logits = models.define_model(x, is_training, model, len(labels))[0]
        probabilities = tf.nn.sigmoid(logits)
    sess = tf.compat.v1.Session()
    sess.run(tf.compat.v1.global_variables_initializer())
    variables = tf.compat.v1.global_variables()
    before = sess.run(variables)
    checkpoint = os.path.join(os.path.dirname(models.__file__), model) + "/"
    tf.compat.v1.train.Saver().restore(sess, checkpoint)  # raises if it cannot restore
    after = sess.run(variables)
    unchanged = [
        v.name
        for v, a, b in zip(variables, before, after, strict=True)
        if a.size > 1 and np.array_equal(a, b)
    ]
    if unchanged:
        raise SystemExit(
            f"{model}: restore left {len(unchanged)} variables untrained: {unchanged[:3]}"
        )
    out: dict[str, list[float]] = {}
    for path in paths:
        batch = _patches(path, n_frames)
        tags = sess.run(probabilities, feed_dict={x: batch, is_training: False})
        out[path] = [float(v) for v in np.mean(tags, axis=0)]
    sess.close()
    return out


def main() -> None:
    paths = json.loads(Path(sys.argv[1]).read_text())
    result: dict[str, dict[str, list[float]]] = {p: {} for p in paths}
    for model in MODELS:
        for path, tags in _tag_with(model, paths).items():
            result[path][model] = tags
    labels = {m: list(v) for m, v in MODELS.items()}
    Path(sys.argv[2]).write_text(json.dumps({"labels": labels, "tags": result}))


if __name__ == "__main__":
    main()
