"""A shopper's photo is taken for what its bytes are, and keeps only what draws it."""

from __future__ import annotations

import pytest

from app.domain.photo_upload import PhotoRefused, PhotoType, cleaned
from tests.app.page.photos import GPS, jpeg, png


def test_a_jpeg_loses_its_exif_comment_and_whatever_follows_its_end_and_keeps_its_picture() -> None:
    original = jpeg(trailing=b"\xff\xd8" + b"\xff\xe1\x00\x10Exif\x00\x00" + GPS + b"\xff\xd9")

    photo = cleaned(original)

    assert photo.media_type is PhotoType.JPEG
    assert GPS not in photo.content and b"Exif" not in photo.content
    assert b"Phone X" not in photo.content
    assert photo.content == jpeg(exif=False).replace(
        b"\xff\xfe\x00\x19shot on Phone X by Jane", b""
    )
    assert photo.content.startswith(b"\xff\xd8\xff\xe0") and photo.content.endswith(b"\xff\xd9")


def test_a_png_loses_its_text_and_exif_chunks_and_keeps_its_pixels() -> None:
    photo = cleaned(png())

    assert photo.media_type is PhotoType.PNG
    assert photo.content == png(text=False)


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a\x01\x00\x01\x00",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><script>alert(1)</script>",
        b"",
    ],
)
def test_anything_but_jpeg_or_png_bytes_is_refused_whatever_it_is_called(content: bytes) -> None:
    with pytest.raises(PhotoRefused) as refused:
        cleaned(content)

    assert refused.value.code == "photo_type_not_allowed"


@pytest.mark.parametrize(
    "content",
    [jpeg()[:40], jpeg()[:-2], png()[:-6], b"\xff\xd8\xff\xe0\xff\xff"],
)
def test_a_cut_or_broken_file_is_refused_as_unreadable(content: bytes) -> None:
    with pytest.raises(PhotoRefused) as refused:
        cleaned(content)

    assert refused.value.code == "photo_unreadable"
