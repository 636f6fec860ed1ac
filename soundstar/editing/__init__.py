"""Editing a generated piece through its project: remake a section, extend, vary.

`splice` joins new audio to old (pure numpy), `assemble` builds a project's score from
its per-section seeds and cuts excerpts of it, `edits` does the three edits and
`files` reads a project's audio and writes an edit's files.
"""
