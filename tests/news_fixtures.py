"""Two short news articles the document tests post (as `POST …/documents` bodies): a hydrogen
park in Lanzhou New Area and Jiuquan's wind power. Tests add ids or metadata with
``{**HYDROGEN, "doc_id": …}``; their expected answers quote these texts exactly."""

from __future__ import annotations

from typing import Any

HYDROGEN: dict[str, Any] = {
    "title": "兰州新区氢能产业园开工",
    "text": "3月1日，兰州新区氢能产业园开工建设，总投资52亿元。园区建成后每年可生产氢燃料电池"
    "汽车6800辆，带动就业4000人。",
    "published": "2025-03-01",
    "source": "甘肃日报",
}
WIND: dict[str, Any] = {
    "title": "酒泉风电装机突破两千万千瓦",
    "text": "截至2025年6月底，酒泉市风电装机容量达到2150万千瓦，占全省风电装机的六成。"
    "今年新增的风电项目主要分布在瓜州和玉门。",
    "published": "2025-07-02",
    "source": "酒泉日报",
}
