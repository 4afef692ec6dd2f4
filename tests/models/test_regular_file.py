"""read_at_most: a capped read that costs what the file holds, not the cap."""

from __future__ import annotations

import io
import tracemalloc

from models.regular_file import open_regular, read_at_most


def peak_bytes(fn, *args):
    tracemalloc.start()
    try:
        result = fn(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_small_file_under_a_huge_cap_costs_its_size(tmp_path):
    path = tmp_path / "small"
    path.write_bytes(b"x" * 4096)
    with open_regular(path) as f:
        data, peak = peak_bytes(read_at_most, f, (4096 << 20) + 1)
    assert data == b"x" * 4096
    assert peak < 1 << 20  # f.read(cap + 1) allocated the whole 4 GiB first


def test_the_cap_is_kept_and_one_byte_more_tells_a_file_over_it(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes
    with open_regular(path) as f:
        assert len(read_at_most(f, 1001)) == 1001
    with open_regular(path) as f:
        assert read_at_most(f, 1 << 20) == path.read_bytes()


def test_a_file_appended_to_after_the_open_is_read_up_to_the_cap(tmp_path):
    path = tmp_path / "growing"
    path.write_bytes(b"a" * 100)
    with open_regular(path) as f:
        with open(path, "ab") as more:  # a writer appends after the open (a live run's log)
            more.write(b"b" * 3_000_000)
        data = read_at_most(f, 2_500_001)
    assert len(data) == 2_500_001 and data.startswith(b"a" * 100)


def test_a_stream_without_a_file_descriptor_is_read_in_chunks():
    stream = io.BytesIO(b"z" * 3_000_000)
    assert read_at_most(stream, 2_000_001) == b"z" * 2_000_001
    assert read_at_most(io.BytesIO(b"short"), 100) == b"short"
