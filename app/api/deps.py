"""Dependencies as ``Annotated`` aliases, read from the app's services (no globals).

The ones that only read ``app.state`` are ``async``: FastAPI runs a plain ``def`` dependency in a
worker thread, a trip to the threadpool and back for each request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.services import AppServices
from app.settings import Settings


async def get_services(request: Request) -> AppServices:
    services: AppServices = request.app.state.services
    return services


async def get_settings(services: Annotated[AppServices, Depends(get_services)]) -> Settings:
    return services.settings


def get_session(services: Annotated[AppServices, Depends(get_services)]) -> Iterator[Session]:
    with services.database.sessions() as session:
        yield session


ServicesDep = Annotated[AppServices, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
