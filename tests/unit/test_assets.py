"""The static file table: what is compressed at start-up and what is not."""

from __future__ import annotations

import pytest

from webapp.core.assets import load, static_url

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def test_text_is_gzipped_once_and_images_never(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "pixel.png").write_bytes(PNG)
    (tmp_path / "site.css").write_text("body { color: #123456; }\n" * 200)
    (tmp_path / "tiny.js").write_text("x")
    table = load(tmp_path)
    assert set(table) == {"img/pixel.png", "site.css", "tiny.js"}
    assert table["img/pixel.png"].gzipped is None
    assert table["img/pixel.png"].media_type == "image/png"
    assert table["site.css"].media_type == "text/css; charset=utf-8"
    assert table["site.css"].gzipped is not None and len(table["site.css"].gzipped) < 200
    assert table["tiny.js"].gzipped is None  # gzip would make it bigger


def test_a_static_url_names_a_file_that_exists():
    assert static_url("css/app.css").startswith("/static/css/app.css?v=")
    with pytest.raises(LookupError, match=r"static/css/missing\.css"):
        static_url("css/missing.css")
