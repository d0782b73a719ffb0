"""A file that cannot be cleaned of personal data is refused, never sent as it came."""

from __future__ import annotations

import hashlib

PHOTO_REFUSAL = "這張相片無法清除其中的個人資料，未能接受。請改用其他相片或截圖。"
PDF_REFUSAL = "這份 PDF 檔案無法清除其中的個人資料，未能接受。請改用其他檔案或相片。"
MEDIA_REFUSAL = ("這段影片或錄音無法讀取，或不是它看來的格式，未能接受。"
                 "請把影片另存或重新錄製後再試。")


class UncleanableFile(ValueError):
    """A file we cannot clean of personal data; the message can be shown to the resident."""

    def __init__(self, message: str = PHOTO_REFUSAL) -> None:
        super().__init__(message)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
