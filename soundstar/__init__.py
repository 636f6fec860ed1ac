"""Soundstar: describe the music, get audio, MIDI, stems and the plan."""

__version__ = "0.1.0"
