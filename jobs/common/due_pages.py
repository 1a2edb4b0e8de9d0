"""Reading what is due page by page, in change order (validation of both lines)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

Page = TypeVar("Page")


def due_pages(read: Callable[[int], Page], *, page_size: int, rows: Callable[[Page], int], last_seq: Callable[[Page], int]) -> Iterator[Page]:
    """The pages `read(after_seq)` gives, each after the previous one's last change (`last_seq`), until one comes back
    short of `page_size` `rows`. The first page is always given, even empty, so that a run with nothing due is recorded."""
    after, pages = 0, 0
    while True:
        page = read(after)
        size = rows(page)
        if size == 0 and pages:
            return
        pages += 1
        yield page
        if size < page_size:
            return
        after = last_seq(page)
