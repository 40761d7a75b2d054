"""What an order's answer is told with besides the index: the moment its deadlines count down to
(the chain's latest block time, the contracts' own "now") and the token's name for its amount.

The index's state is as of its latest block while the clock is the chain's head: a deadline that
passed since is shown passed, and the moves the index has not read yet are not shown (the
answer's ``as_of_block`` says how far it read). While the node is away the clock is the index's
latest block time, and the node is left alone for a while (``NodeBackoff``) so that an answer
from the index never waits on it.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.api.deps import SessionDep
from app.index.chain import ChainAccess, ChainUnavailable, NodeBackoff
from app.index.queries import index_time
from app.shop.schemas import Clock
from app.shop.tokens import RETRY_AFTER_SECONDS, AmountText, TokenNames


class OrderContext:
    """The clock is read when an answer first needs it, so that a refused request (a malformed
    id, an unknown order) costs the node nothing."""

    def __init__(self, clock: ChainClock, session: Session, amount_text: AmountText) -> None:
        self._clock = clock
        self._session = session
        self.amount_text = amount_text

    @cached_property
    def _reading(self) -> tuple[int, Clock]:
        return self._clock.now(self._session)

    @property
    def now(self) -> int:
        """Unix seconds."""
        return self._reading[0]

    @property
    def clock(self) -> Clock:
        return self._reading[1]


class ChainClock:
    """The chain's latest block time, else the index's; one per app, thread-safe."""

    def __init__(self, chain: ChainAccess) -> None:
        self._chain = chain
        self._backoff = NodeBackoff(RETRY_AFTER_SECONDS)

    def now(self, session: Session) -> tuple[int, Clock]:
        if not self._backoff.waiting():
            try:
                return self._chain.head_time(), "chain"
            except ChainUnavailable:
                self._backoff.failed()
        indexed = index_time(session)
        if indexed is not None:
            return indexed[1], "index"
        return int(time.time()), "system"  # nothing indexed: no order to judge either


async def get_order_context(request: Request, session: SessionDep) -> OrderContext:
    clock: ChainClock = request.app.state.chain_clock
    token_names: TokenNames = request.app.state.token_names
    return OrderContext(clock, session, token_names.amount_text)


OrderContextDep = Annotated[OrderContext, Depends(get_order_context)]
