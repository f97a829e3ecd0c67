"""Zip containers (.docx, .epub) checked before a library opens them.

Both formats are zip archives. The entries' declared sizes are summed before anything is
unpacked, so a zip bomb (a few kilobytes that unpack to gigabytes) is refused instead of
filling memory, and a file that is not the container its name says is named as such.
"""

from __future__ import annotations

import io
import zipfile

MAX_UNZIPPED_BYTES = 64 << 20
"""The most a .docx or .epub may unpack to (a long feature with photos is a few MB)."""


def archive_problem(data: bytes, required: str, what: str, hint: str = "") -> str | None:
    """Why `data` is not `what` (a zip holding `required`) safe to open, or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        return f"not {what} (not a zip archive{hint})"
    if not any(e.filename == required for e in entries):
        return f"not {what} (the archive has no {required})"
    unzipped = sum(e.file_size for e in entries)
    if unzipped > MAX_UNZIPPED_BYTES:
        return (
            f"unpacks to {unzipped:,} bytes, over the limit of {MAX_UNZIPPED_BYTES:,} "
            "(MAX_UNZIPPED_BYTES)"
        )
    return None
