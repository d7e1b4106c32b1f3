"""Companies of a season (the gates where workers board). Employers see only their own."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api import crud, models
from api.deps import CurrentUser, DispatcherUser, SeasonQuery, SessionDep, company_scope
from api.errors import NotFound
from api.schemas import CompanyCreate, CompanyPublic

router = APIRouter(prefix="/companies", tags=["companies"])


def _public(row: models.Company, season: models.Season) -> CompanyPublic:
    return CompanyPublic(
        season=season.name,
        company_id=row.company_id,
        name=row.name,
        lon=row.lon,
        lat=row.lat,
        no_hub=row.no_hub,
        town=row.town,
        address=row.address,
        county=row.county,
    )


@router.get("")
def list_companies(
    session: SessionDep, user: CurrentUser, season: SeasonQuery = None
) -> list[CompanyPublic]:
    """The season's companies; an employer gets its own only."""
    row = crud.resolve_season(session, name=season)
    companies = crud.list_companies(session, season=row, company_id=company_scope(user))
    return [_public(c, row) for c in companies]


@router.post("", status_code=status.HTTP_200_OK)
def upsert_companies(
    session: SessionDep,
    _user: DispatcherUser,
    companies_in: list[CompanyCreate] | CompanyCreate,
    season: SeasonQuery = None,
) -> list[CompanyPublic]:
    """Create or update one or many companies, keyed by company_id (dispatchers only)."""
    row = crud.resolve_season(session, name=season)
    items = companies_in if isinstance(companies_in, list) else [companies_in]
    return [_public(c, row) for c in crud.upsert_companies(session, season=row, companies_in=items)]


@router.get("/{company_id}")
def read_company(
    session: SessionDep, user: CurrentUser, company_id: str, season: SeasonQuery = None
) -> CompanyPublic:
    row = crud.resolve_season(session, name=season)
    scope = company_scope(user)
    company = crud.get_company(session, season=row, company_id=company_id)
    if company is None or (scope is not None and company.company_id != scope):
        raise NotFound(f"no company {company_id!r} in season {row.name!r}")
    return _public(company, row)


@router.delete("/{company_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_company(
    session: SessionDep, _user: DispatcherUser, company_id: str, season: SeasonQuery = None
) -> Response:
    """Remove a company without registered workers (dispatchers only)."""
    crud.delete_company(
        session, season=crud.resolve_season(session, name=season), company_id=company_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
