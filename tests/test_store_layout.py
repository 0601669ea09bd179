"""The sweep store's batch files (store version 3, ``simulation.store_layout``): row groups of
runs with their rows interleaved give back every value bit for bit, take fewer bytes a run than a
row group per run (store version 2), and a store of version 2 is read but not resumed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import CRN
from valuechain.analysis import load_sweep, sweep_outcomes
from valuechain.analysis.sweep import _runs_of
from valuechain.analysis.sweep_runs import SweepRuns
from valuechain.simulation import run_sweep
from valuechain.simulation import store_layout as layout
from valuechain.simulation.running import sweeps

from valuechain.cli import main


@pytest.fixture
def folder(tiny_folder: Path) -> Path:
    (tiny_folder / "s.yaml").write_text(CRN)
    return tiny_folder


def bits(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every column, floats as their 64 bits (NaN payloads and -0.0 included)."""
    return {c: frame[c].to_numpy(np.float64).view(np.uint64) if frame[c].dtype.kind == "f" else frame[c].to_numpy()
            for c in frame.columns}


def assert_bit_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for name, values in bits(a).items():
        assert np.array_equal(values, bits(b)[name]), name


def batch_bytes_of(folder: Path, out: str) -> int:
    return sum(p.stat().st_size for p in (folder / out / "runs").glob("b*.parquet"))


def test_row_groups_are_consecutive_runs_of_one_size_and_rows_interleave() -> None:
    assert layout.run_groups([3, 3, 3, 2, 2, 3], most=2) == [[0, 1], [2], [3, 4], [5]]
    assert layout.interleaved(2, 3).tolist() == [0, 3, 1, 4, 2, 5]  # run 0 rows 0..2 are 0..2, run 1's 3..5
    assert layout.run_rows(2, 1, 6).tolist() == [1, 3, 5]
    assert layout.interleaved(2, 3)[layout.run_rows(2, 1, 6)].tolist() == [3, 4, 5]  # run 1's own rows, in order
    runs = [{"point": 0, "replication": r, "row_group": g} for r, g in enumerate([0, 0, 1, 2, 2, 2])]
    assert layout.run_places(runs) == {(0, 0): (0, 0, 2), (0, 1): (0, 1, 2), (0, 2): (1, 0, 1),
                                       (0, 3): (2, 0, 3), (0, 4): (2, 1, 3), (0, 5): (2, 2, 3)}


def test_every_value_comes_back_bit_for_bit(monkeypatch) -> None:
    """Runs of two sizes (row groups of up to 3 runs of one size), floats of every kind (random
    bits, NaN payloads, +-0.0, +-inf, subnormals): the batch file gives back each run, alone or with
    others, bit for bit and in its own row order."""
    monkeypatch.setattr(layout, "RUNS_PER_GROUP", 3)
    rng = np.random.default_rng(7)
    special = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 5e-324, -2.2e-308, 1.0]).view(np.uint64)
    special = np.append(special, np.uint64(0x7FF8_0000_0000_0ABC))  # a NaN with a payload
    runs = []
    for r, n in enumerate([6, 6, 6, 6, 4, 4, 6]):
        raw = rng.integers(0, 2**63, size=n, dtype=np.uint64) | (rng.integers(0, 2, n, dtype=np.uint64) << 63)
        raw[: min(n, 3)] = special[[r % 9, (r + 3) % 9, (r + 6) % 9][: min(n, 3)]]
        table = pa.table({"scenario": pa.array(["s"] * n), "point": pa.array(np.full(n, r // 2, np.int64)),
                          "replication": pa.array(np.full(n, r % 2, np.int64)),
                          "year": pa.array(2016 + np.arange(n) // 2),
                          "stage": pa.array([f"st{i % 2}" for i in range(n)]),
                          "output": pa.array(raw.view(np.float64)), "entries": pa.array(rng.integers(0, 9, n)),
                          sweeps.FISCAL_PREFIX + "tax": pa.array(rng.standard_normal(n))})
        runs.append(({"point": r // 2, "replication": r % 2}, table))
    data, places = sweeps.batch_bytes(runs, {"levers": ["tax"]})
    pf = pq.ParquetFile(pa.BufferReader(data))
    assert [p["row_group"] for p in places] == [0, 0, 0, 1, 2, 2, 3]
    assert [pf.metadata.row_group(g).num_rows for g in range(4)] == [18, 6, 8, 6]
    stored = json.loads(pf.schema_arrow.metadata[sweeps.BATCH_META])["runs"]
    every = pd.DataFrame({"point": [r // 2 for r in range(7)], "replication": [r % 2 for r in range(7)]})
    whole = _runs_of(pf, stored, every, runs[0][1].column_names, Path("b.parquet")).to_pandas()
    assert_bit_equal(whole, pa.concat_tables([t for _, t in runs]).to_pandas())
    for r in (1, 4, 6):  # one run alone: only its row group is read
        alone = _runs_of(pf, stored, every.iloc[[r]], runs[r][1].column_names, Path("b.parquet")).to_pandas()
        assert_bit_equal(alone, runs[r][1].to_pandas())


def test_the_new_layout_takes_fewer_bytes_a_run_and_gives_back_the_same_frames(folder: Path, monkeypatch) -> None:
    """The same sweep (every column kept) written with a row group per run (store version 2's
    layout) and with row groups of runs: identical frames, bit for bit, in fewer bytes."""
    run_sweep("s.yaml", out="new", workers=1, progress=False, columns="all", batch_size=6)
    monkeypatch.setattr(layout, "RUNS_PER_GROUP", 1)
    run_sweep("s.yaml", out="old", workers=1, progress=False, columns="all", batch_size=6)
    assert [pq.ParquetFile(p).metadata.num_row_groups for p in sorted((folder / "old" / "runs").iterdir())] == [6, 6]
    assert [pq.ParquetFile(p).metadata.num_row_groups for p in sorted((folder / "new" / "runs").iterdir())] == [1, 1]
    new, old = load_sweep(folder / "new"), load_sweep(folder / "old")
    assert_bit_equal(new.stages, old.stages)
    assert_bit_equal(new.fiscal, old.fiscal)
    assert batch_bytes_of(folder, "new") < batch_bytes_of(folder, "old")


def test_a_store_of_version_2_is_read_and_its_resume_refused_with_one_line(folder: Path, monkeypatch, capsys
                                                                          ) -> None:
    """A store written as store version 2 (a run a row group), built here by the writer with that
    layout and version: load_sweep and the streaming readers give the frames of a version 3 store;
    --resume is refused with one line naming its sweep.json, exit status 2, nothing written."""
    run_sweep("s.yaml", out="new", workers=1, progress=False, batch_size=5)
    with monkeypatch.context() as patch:
        patch.setattr(layout, "RUNS_PER_GROUP", 1)
        patch.setattr(sweeps, "STORE_VERSION", 2)
        run_sweep("s.yaml", out="old", workers=1, progress=False, batch_size=5)
    old_dir = folder / "old"
    assert json.loads((old_dir / "sweep.json").read_text())["store_version"] == 2
    for path in (old_dir / "runs").iterdir():
        meta = json.loads(pq.read_schema(path).metadata[sweeps.BATCH_META])
        assert meta["store_version"] == 2
        assert [r["row_group"] for r in meta["runs"]] == list(range(pq.ParquetFile(path).metadata.num_row_groups))
    new, old = load_sweep(folder / "new"), load_sweep(old_dir)
    assert_bit_equal(new.stages, old.stages)
    assert_bit_equal(new.fiscal, old.fiscal)
    pd.testing.assert_frame_equal(sweep_outcomes(old_dir, "value_added"), sweep_outcomes(folder / "new", "value_added"))
    label = next(iter(SweepRuns(old_dir)))
    assert_bit_equal(SweepRuns(old_dir)[label].stages, SweepRuns(folder / "new")[label].stages)
    before = {p: p.read_bytes() for p in old_dir.rglob("*") if p.is_file()}
    try:
        code = main(["sweep", "s.yaml", "--out", "old", "--resume", "--quiet"])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("error: old/sweep.json: store_version: 2: this valuechain resumes only sweep stores of version 3; "
                   "load_sweep still reads this one; start again with --overwrite (or resume it with the "
                   "valuechain that wrote it)\n")
    assert {p: p.read_bytes() for p in old_dir.rglob("*") if p.is_file()} == before


def test_a_batch_file_uses_the_layouts_encodings(folder: Path) -> None:
    """What ``batch_bytes`` asks of Parquet is what the file holds (its footer): every column chunk
    zstd-compressed and without statistics, the float columns' data pages byte-stream split (not
    plain, not a dictionary), the key and count columns dictionary-encoded; a batch of 12 runs in
    one row group (fewer than ``RUNS_PER_GROUP``)."""
    run_sweep("s.yaml", out="s", workers=1, progress=False, batch_size=12)
    (path,) = (folder / "s" / "runs").iterdir()
    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    floats = {f.name for f in schema if pa.types.is_floating(f.type)}
    assert {"value_added", "output", "tax_paid"} <= floats and {"point", "stage", "entries"}.isdisjoint(floats)
    assert len(json.loads(schema.metadata[sweeps.BATCH_META])["runs"]) == 12 and pf.metadata.num_row_groups == 1
    for g in range(pf.metadata.num_row_groups):
        group = pf.metadata.row_group(g)
        for j in range(group.num_columns):
            chunk = group.column(j)
            assert chunk.compression == "ZSTD", chunk.path_in_schema
            assert not chunk.is_stats_set, chunk.path_in_schema
            data_pages = set(chunk.encodings) - {"RLE"}  # RLE: the definition levels
            if chunk.path_in_schema in floats:
                assert data_pages == {"BYTE_STREAM_SPLIT"}, chunk.path_in_schema
                assert not chunk.has_dictionary_page, chunk.path_in_schema
            else:
                assert "RLE_DICTIONARY" in data_pages and chunk.has_dictionary_page, chunk.path_in_schema


def test_a_store_with_smaller_row_groups_reads_and_resumes_to_the_same_frames(folder: Path, monkeypatch) -> None:
    """The runs a row group holds is the writer's choice, read from each file's metadata: a store
    written with row groups of up to 2 runs (as version 3 wrote them with 50 before 100) gives
    the frames of one written with the default, bit for bit, and, one of its batch files lost,
    resumes with the default to the same frames (the new file's row groups the default's)."""
    run_sweep("s.yaml", out="new", workers=1, progress=False, batch_size=6)
    with monkeypatch.context() as patch:
        patch.setattr(layout, "RUNS_PER_GROUP", 2)
        run_sweep("s.yaml", out="old", workers=1, progress=False, batch_size=6)
    assert [pq.ParquetFile(p).metadata.num_row_groups for p in sorted((folder / "old" / "runs").iterdir())] == [3, 3]
    assert [pq.ParquetFile(p).metadata.num_row_groups for p in sorted((folder / "new" / "runs").iterdir())] == [1, 1]
    new = load_sweep(folder / "new")
    for directory in ("old", "resumed"):
        if directory == "resumed":
            (folder / "old" / "runs" / "b000001.parquet").unlink()  # a batch file lost
            run_sweep("s.yaml", out="old", workers=1, progress=False, batch_size=6, resume=True)
            groups = {p.name: pq.ParquetFile(p).metadata.num_row_groups for p in (folder / "old" / "runs").iterdir()}
            assert groups["b000000.parquet"] == 3 and sorted(groups.values()) == [1, 3]  # the kept file as it was
        got = load_sweep(folder / "old")
        assert_bit_equal(got.stages, new.stages)
        assert_bit_equal(got.fiscal, new.fiscal)
