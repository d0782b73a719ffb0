"""A short reminder for the office under each complaint, drawn from the staff guidance pages."""

from __future__ import annotations

KINDS = {  # category -> (the kind of complaint in the staff guidance, its anchor)
    "facilities": ("第一類：對設備設施方面的投訴", "kind-1"),
    "service": ("第二類：對管理服務方面的投訴", "kind-2"),
    "fees": ("第三類：收費方面的投訴", "kind-3"),
    "emergency": ("第四類：對突發事件方面的投訴", "kind-4"),
}
STRATEGIES = (
    "策略一：首先假定我們的工作存在問題，耐心聽取或記錄投訴，不當面反駁業主意見。",
    "策略二：對業主的遭遇表示歉意或同情，設身處地站在業主立場上。",
    "策略三：遵循公司的經營原則提出處理意見，站在「公平、公正、合理、互諒」的立場。",
    "策略四：感謝業主的意見和建議，把投訴加以整理分類，檢討和改進工作。",
    "策略五：督促有關部門限時處理，確保不再發生同樣問題，杜絕「二次投訴」。",
    "策略六：盡快以電話或信函把處理結果反饋給業主，一般應不超過一個工作日。",
)


def reminder(category: str, base_url: str) -> dict:
    base = base_url.rstrip("/") + "/staff/strategies/"
    kind, anchor = KINDS.get(category, ("其他投訴", "kinds"))
    return {"kind": kind, "kind_url": f"{base}#{anchor}", "strategies": STRATEGIES,
            "strategies_url": f"{base}#strategies",
            "reception_url": base_url.rstrip("/") + "/staff/reception/"}
