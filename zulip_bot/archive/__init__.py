"""`meetbot import`: bring meetbot up to date with a community's existing notes archive.

`read.py` reads the folder (never writing into it), `people.py` turns its attendee sections into
roster people, `roster_file.py` appends them to the roster's TOML text, `actions.py` picks the
open action items to register, and `importer.py` plans all of it, applies the plan (or only
describes it, for `--dry-run`) and reports. The CLI (`meetbot import`) is a thin edge over
`importer.py`; everything else here is pure functions over what was read.
"""
