"""Row partitions of a table (``validation run --dask``): the same typed table and the same
messages, byte for byte, as the whole-file path, whatever the partition boundaries.

The partitions run here through the in-process executor (the worker function is the same on
Dask; ``tests/pipeline/test_dask_run.py`` runs it on a LocalCluster). The whole-file path is
the oracle.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from validation.analysis.executor import InProcess
from validation.data.partitioned import file_parts, validate_parts
from validation.data.predictions import match_predictions
from validation.data.specs import load_spec, load_table
from validation.data.testset import build_test_set
from validation.errors import DataError

SPEC = load_spec("test_set_manifest")
COLUMNS = ["case_id", "patient_id", "site", "truth", "sex", "age", "consent_withdrawn",
           "non_diagnostic"]


def _outcome(fn: object) -> tuple[str, object]:
    try:
        return "ok", fn()  # type: ignore[operator]
    except DataError as exc:
        return "error", (str(exc), list(exc.problems))


def _both(path: Path, partition_bytes: int) -> None:
    local = _outcome(lambda: load_table(path, SPEC, what="test-set manifest"))
    parts = file_parts(path, partition_bytes)
    split = _outcome(lambda: validate_parts(parts, SPEC, executor=InProcess(), source=path.name,
                                            what="test-set manifest"))
    assert local[0] == split[0]
    if local[0] == "ok":
        pd.testing.assert_frame_equal(local[1], split[1], check_exact=True)  # type: ignore[arg-type]
    else:
        assert local[1] == split[1]


def _bad_manifest(rng: random.Random, n: int, columns: list[str]) -> str:
    def cell(col: str, i: int) -> str:
        r = rng.random()
        if r < 0.04:
            return ""
        if r < 0.09:
            return rng.choice(["x", "2", "-3", "200", "1.5", "Q", "yes", "1e100"])
        if r < 0.11 and col == "case_id":
            return f"c{max(0, i - rng.randint(1, 40))}"  # a duplicate, often in another part
        return {"case_id": f"c{i}", "patient_id": f"p{i // 2}", "site": rng.choice(["S1", "S2"]),
                "truth": rng.choice(["0", "1", ""]), "sex": rng.choice(["F", "M", ""]),
                "age": str(rng.randint(0, 130)), "consent_withdrawn": rng.choice(["true", "no"]),
                "non_diagnostic": "false"}[col]

    rows = [",".join(cell(c, i) for c in columns) for i in range(n)]
    return ",".join(columns) + "\n" + "\n".join(rows) + ("\n" if rng.random() < 0.7 else "")


@pytest.mark.parametrize("seed", range(4))
def test_bad_tables_give_the_whole_file_messages(tmp_path: Path, seed: int) -> None:
    """Random bad manifests (type errors, empty cells, values out of range or set, duplicate
    keys across partitions, a missing column) of up to 500 rows: the problems of every
    partition, put together, are the whole-file list in its order, including pandera's own
    ordering of more than 16 failure cases (its unstable sort)."""
    rng = random.Random(seed)
    path = tmp_path / "m.csv"
    for _ in range(3):
        cols = list(COLUMNS)
        if rng.random() < 0.15:
            cols.remove(rng.choice(cols))
        path.write_text(_bad_manifest(rng, rng.randint(1, 500), cols))
        _both(path, rng.randint(1, 4000))


def test_a_good_table_is_the_same_table(tmp_path: Path) -> None:
    rng = random.Random(1)
    lines = ["case_id,patient_id,site,truth,sex,age,consent_withdrawn"]
    lines += [f"c{i},p{i // 2},S{i % 3}, {rng.choice(['0', '1', ''])} ,{rng.choice('FMOU')},"
              f"{rng.randint(0, 99)},{rng.choice(['yes', 'no', '1', '0', ''])}" for i in range(700)]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    assert len(file_parts(path, 1000).ranges) > 10
    _both(path, 1000)


def test_row_and_line_numbers_are_the_files(tmp_path: Path) -> None:
    lines = ["case_id,patient_id,site,truth"] + [f"c{i},p{i},S,1" for i in range(100)]
    lines[61] = "c60,p60,S,7"  # data row 61, file line 62
    lines[99] = "c3,p98,S,1"   # a duplicate of row 4, in another partition
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    assert len(file_parts(path, 200).ranges) > 3
    with pytest.raises(DataError) as exc:
        validate_parts(file_parts(path, 200), SPEC, executor=InProcess(), source="m.csv",
                       what="test-set manifest")
    assert exc.value.problems == [
        "duplicate case_id 'c3' at rows 4, 99; each case_id must appear once.",
        "row 61 (line 62), column 'truth': must be one of 0, 1; got 7.",
    ]
    _both(path, 200)


def test_parts_are_row_aligned_and_hashed(tmp_path: Path) -> None:
    rng = random.Random(2)
    path = tmp_path / "t.csv"
    for _ in range(200):
        data = ("a,b\n" + "".join(f"{rng.randint(0, 10 ** rng.randint(0, 6))},x\n"
                                  for _ in range(rng.randint(0, 30)))).encode()
        if rng.random() < 0.3:
            data = data.rstrip(b"\n")
        path.write_bytes(data)
        size = rng.randint(1, 40)
        fp = file_parts(path, size)
        assert fp.sha256 == hashlib.sha256(data).hexdigest()
        end, sha = fp.header
        assert data[:end] == b"a,b\n"[: len(data[:end])] and hashlib.sha256(data[:end]).hexdigest() == sha
        at = end
        for a, b, h in fp.ranges:
            assert a == at < b and hashlib.sha256(data[a:b]).hexdigest() == h
            assert b == len(data) or (data[b - 1:b] == b"\n" and b - a >= size)
            at = b
        assert at == len(data)


def test_a_quoted_file_is_one_partition(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('case_id,patient_id,site,truth\n"c1",p1,"S\nX",1\n' + "".join(
        f"c{i},p{i},S,0\n" for i in range(2, 200)))
    assert len(file_parts(path, 50).ranges) == 1
    _both(path, 50)


def test_a_file_changed_after_hashing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("case_id,patient_id,site,truth\n" + "".join(f"c{i},p{i},S,1\n" for i in range(50)))
    parts = file_parts(path, 100)
    path.write_text(path.read_text().replace("c40,", "c4X,"))
    with pytest.raises(DataError, match="changed while it was being read"):
        validate_parts(parts, SPEC, executor=InProcess(), source="m.csv", what="test-set manifest")


def test_a_malformed_file_gets_the_whole_file_parse_message(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("case_id,patient_id,site,truth\n" + "".join(f"c{i},p{i},S,1\n" for i in range(50))
                    + "c50,p50,S,1,extra,fields\n" + "".join(f"c{i},p{i},S,1\n" for i in range(51, 60)))
    _both(path, 80)
    with pytest.raises(DataError, match="cannot be read"):
        load_table(path, SPEC)


def _join_outcome(ts: object, preds: pd.DataFrame, parts: int | None) -> tuple[str, object]:
    ex = None if parts is None else InProcess()
    return _outcome(lambda: match_predictions(ts, preds, source="p.csv", executor=ex,  # type: ignore[arg-type]
                                              parts=parts))


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_the_join_in_slices_is_the_join(parts: int) -> None:
    rng = np.random.default_rng(parts)
    n = 120
    manifest = pd.DataFrame({
        "case_id": pd.array([f"c{i}" for i in range(n)], dtype="string"),
        "patient_id": pd.array([f"p{i // 2}" for i in range(n)], dtype="string"),
        "site": pd.array(["S1"] * n, dtype="string"),
        "truth": pd.array(rng.integers(0, 2, n), dtype="Int64"),
        "consent_withdrawn": pd.array(rng.random(n) < 0.1, dtype="boolean"),
        "non_diagnostic": pd.array(rng.random(n) < 0.1, dtype="boolean"),
    })
    from validation.data.testset import ExclusionRule

    ts = build_test_set(manifest, source="m.csv",
                        exclusions=[ExclusionRule("consent", "consent_withdrawn", (True,))])
    scores = np.round(rng.random(n), 3)
    good = pd.DataFrame({"case_id": pd.array(manifest["case_id"], dtype="string"),
                         "score": np.where(manifest["non_diagnostic"].to_numpy(bool), np.nan, scores)})
    ok = _join_outcome(ts, good, None)
    assert ok[0] == "ok"
    pd.testing.assert_frame_equal(ok[1], _join_outcome(ts, good, parts)[1], check_exact=True)  # type: ignore[arg-type]
    mismatched = pd.concat([good.iloc[30:], pd.DataFrame({"case_id": [f"x{i}" for i in range(30)],
                                                          "score": 0.5})], ignore_index=True)
    blank = good.assign(score=np.where(rng.random(n) < 0.3, np.nan, good["score"]))
    for preds in (mismatched, blank, mismatched.iloc[::-1]):
        a, b = _join_outcome(ts, preds, None), _join_outcome(ts, preds, parts)
        assert a[0] == b[0] == "error"
        assert a[1] == b[1]
