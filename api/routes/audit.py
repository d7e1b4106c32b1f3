"""The audit log of unmasked reads of personal data (dispatchers only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from api import crud
from api.deps import DispatcherUser, SessionDep
from api.schemas import AuditEntryPublic

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def list_audit(
    session: SessionDep,
    _user: DispatcherUser,
    username: str | None = None,
    since: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditEntryPublic]:
    """Who saw which workers' full ID numbers and phones, and when (newest first)."""
    entries = crud.list_audit(session, username=username, since=since, limit=limit)
    return [AuditEntryPublic.model_validate(e) for e in entries]
