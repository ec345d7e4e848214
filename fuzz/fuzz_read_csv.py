"""Coverage-guided fuzzing of the file readers: any bytes under any export name -> a table or an InputError.

Run: ``python fuzz/fuzz_read_csv.py -max_total_time=60``.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["icpkit"]):
    from icpkit.errors import InputError
    from icpkit.ingest.readers import read_raw

NAMES = ["a.csv", "a.tsv", "a.txt", "a.csv.gz", "a.json", "a.jsonl"]
ENCODINGS = [None, "utf-8", "cp1252", "utf-16"]
FOLDER = Path(tempfile.mkdtemp(prefix="icpkit-fuzz-"))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = NAMES[fdp.ConsumeIntInRange(0, len(NAMES) - 1)]
    encoding = ENCODINGS[fdp.ConsumeIntInRange(0, len(ENCODINGS) - 1)]
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    path = FOLDER / name
    path.write_bytes(gzip.compress(body) if name.endswith(".gz") and body[:1] != b"!" else body)
    try:
        raw = read_raw(path, encoding=encoding)
    except InputError:
        return
    if raw.num_rows == 0 or not all(raw.columns) or len(set(raw.columns)) != len(raw.columns):
        raise AssertionError(f"a table without rows or with unusable column names: {raw.columns}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
