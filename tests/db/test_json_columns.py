"""JSON columns (a segment's words, tags) are read with orjson, and with the standard library where it refuses."""

from __future__ import annotations


def test_json_columns_read_back_as_written_nan_included() -> None:
    import json
    import math

    from archive.db.session import load_json

    words = [{"word": " café", "start": 1.25, "end": 1.5, "probability": 0.93, "big": 2**70}]
    assert load_json(json.dumps(words)) == words  # 2**70: orjson refuses it, the standard library reads it
    assert load_json(json.dumps([{"word": "x", "start": 0.1, "end": 0.2, "probability": 0.5}]))[0]["start"] == 0.1
    assert math.isnan(load_json(json.dumps({"p": float("nan")}))["p"])
