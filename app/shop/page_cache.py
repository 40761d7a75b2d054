"""Item pages already made, kept per app until what they are made of changes.

A page is named by its address (path and query: the language switch links back to it), its
language and the version of what it shows (``app.shop.page_facts.page_version``: the index's
head block and hash, and what was published). A new version empties the cache, so no page
outlives its data; a page is made again at most once per version and address. The cache holds
at most ``capacity`` pages, the least recently used going first, so addresses made up by
anyone (a lot, a query attribute) cost memory only up to that bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, NamedTuple

from app.api.page_language import Lang

CAPACITY = 2_048


class MadePage(NamedTuple):
    status_code: int
    html: str


PageKey = tuple[str, bytes, Lang]  # path, query string (as sent), language


class PageCache:
    """This app's made pages (``AppServices.state``: one per app, no module state)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._pages: OrderedDict[PageKey, MadePage] = OrderedDict()
        self._version: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def get(self, version: tuple[Any, ...], key: PageKey) -> MadePage | None:
        with self._lock:
            if version != self._version:
                return None
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, version: tuple[Any, ...], key: PageKey, page: MadePage) -> None:
        with self._lock:
            if version != self._version:
                self._pages.clear()
                self._version = version
            self._pages[key] = page
            if len(self._pages) > self.capacity:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
