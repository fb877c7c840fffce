import gzip

import pytest

from behavioral_analytics.duckdb_plugin import UnreadableRawFileError, gunzip_text


def test_gunzip_text_round_trips():
    assert gunzip_text(gzip.compress(b"a\nb\n"), "f.jsonl.gz") == "a\nb\n"
    assert gunzip_text(None, "f.jsonl.gz") is None


def test_gunzip_text_names_the_file():
    with pytest.raises(UnreadableRawFileError, match="x/broken.jsonl.gz"):
        gunzip_text(b"not gzip", "x/broken.jsonl.gz")
    with pytest.raises(UnreadableRawFileError, match="not UTF-8"):
        gunzip_text(gzip.compress(b"\xff\xfe"), "x/latin.jsonl.gz")
