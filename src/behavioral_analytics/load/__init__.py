"""`behavior load`: put raw event files into a warehouse that cannot read them in place.

- ``files``: which files there are (the contract's formats), their identity
  (relative name, size, SHA-256) and which cannot be read at all;
- ``lines``: a file's rows exactly as the DuckDB path renders them
  (macros/raw/create_raw_event_relations.sql), streamed;
- ``writer``: the engine-specific part behind one small interface
  (``RawWriter``); ``postgres`` implements it with COPY;
- ``loader``: the one code path: skip loaded files, list unreadable ones,
  write each file's lines and its loaded mark atomically, with a progress bar.
"""
