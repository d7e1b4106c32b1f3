"""Who pays what through the service: shares, subsidy under the season's rule, statements."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from optimizer.costs import to_fen
from tests.api.conftest import Service, open_season, worker_row


def test_costs_add_up_and_the_cap_holds(service: Service) -> None:
    """Each trip's shares add up to its cost; a season rule of 50 % capped at 5,000 RMB caps a
    company's subsidy; the employer sees its own statement only; XLSX and PDF statements print
    the same amounts."""
    open_season(
        service,
        "costs-2026",
        companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")],
        subsidy={"share": 0.5, "cap_per_company": 5000},
    )
    rows = [worker_row(n, company_id="ALPHA" if n % 3 else "BETA") for n in range(1, 91)]
    assert service.call(
        "POST", "/api/workers?season=costs-2026", "dispatcher", json=rows
    ).is_success
    plan = service.run_plan("costs-2026")
    trips = service.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    costs = service.call("GET", f"/api/plans/{plan['id']}/costs", "dispatcher").json()
    shares: dict[str, int] = {}
    for company in costs["companies"]:
        assert company["cost_fen"] == sum(t["share_fen"] for t in company["trips"])
        for share in company["trips"]:
            shares[share["trip_id"]] = shares.get(share["trip_id"], 0) + share["share_fen"]
        assert company["subsidy_fen"] == min(round(company["cost_fen"] / 2), to_fen(5000))
        assert company["payable_fen"] == company["cost_fen"] - company["subsidy_fen"]
    stored = {t.trip_id: t.cost for t in _domain_trips(service, plan["id"])}
    assert shares == {t["trip_id"]: to_fen(stored[t["trip_id"]]) for t in trips}
    assert costs["total_cost_fen"] == sum(shares.values())
    assert any(c["subsidy_fen"] == to_fen(5000) for c in costs["companies"])

    service.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher")
    service.add_user("beta-costs", "employer", "BETA")
    own = service.call("GET", f"/api/plans/{plan['id']}/costs", "beta-costs").json()
    assert [c["company_id"] for c in own["companies"]] == ["BETA"] and own["total_cost_fen"] is None
    other = service.call("GET", f"/api/plans/{plan['id']}/costs/ALPHA.pdf", "beta-costs")
    assert other.status_code == 404

    beta = next(c for c in costs["companies"] if c["company_id"] == "BETA")
    payable = f"{beta['payable_fen'] // 100}.{beta['payable_fen'] % 100:02d}"
    xlsx = service.call("GET", f"/api/plans/{plan['id']}/costs/BETA.xlsx", "beta-costs")
    cells = [
        c
        for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)
        for c in r
    ]
    assert payable in cells
    pdf = service.call("GET", f"/api/plans/{plan['id']}/costs/BETA.pdf", "beta-costs")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert payable in text and "贝塔制造" in text


def _domain_trips(service: Service, plan_id: int) -> list:  # type: ignore[type-arg]
    from api import crud

    with service.session() as session:
        return [t for t, _ in crud.plan_trips(session, plan_id=plan_id)]
