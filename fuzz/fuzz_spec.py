"""Coverage-guided fuzzing of the spec parser: any text -> an ICPSpec that round-trips, or a SpecError.

Run: ``python fuzz/fuzz_spec.py -max_total_time=60 corpus/ fuzz/seeds/spec``: new inputs go to the first
folder, ``fuzz/seeds/spec`` holds a valid spec to start from.
"""

from __future__ import annotations

import sys
import warnings

import atheris

with atheris.instrument_imports(include=["icpkit"]):
    from icpkit.errors import SpecError
    from icpkit.spec.io import content_hash, dump_spec, load_spec

warnings.simplefilter("ignore")  # ruamel warns about reused anchors before the loader refuses the document


def test_one_input(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    try:
        spec = load_spec(text, path="fuzz.yaml")
    except SpecError:
        return
    again = load_spec(dump_spec(spec), path="again.yaml")
    if again != spec or content_hash(again) != content_hash(spec):
        raise AssertionError("the spec does not survive a round trip")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
