"""Privacy: masked ID numbers and phones for everyone but dispatchers; every unmasked read in
the audit log (who, when, what), which never holds an ID number."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Service, make_id_number, open_season, worker_row

SEASON = "privacy-2026"


@pytest.fixture(scope="module")
def svc(service: Service) -> Service:
    open_season(service, SEASON, companies=[("ALPHA", "阿尔法电器")])
    service.add_user("alpha", "employer", "ALPHA")
    service.add_user("auditor", "dispatcher")
    rows = [worker_row(n) for n in range(1, 5)]
    assert (
        service.call("POST", f"/api/workers?season={SEASON}", "alpha", json=rows).status_code == 200
    )
    return service


def audit(svc: Service, username: str) -> list[dict[str, Any]]:
    response = svc.call("GET", f"/api/audit?username={username}", "dispatcher")
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_employer_sees_masks_even_for_own_workers(svc: Service) -> None:
    """ID numbers read 3401**********NNNN and phones 139****NNNN for an employer; no audit."""
    workers = svc.call("GET", f"/api/workers?season={SEASON}", "alpha").json()
    assert workers and all(w["masked"] for w in workers)
    for worker in workers:
        assert worker["id_number"].startswith("3401") and "*" * 10 in worker["id_number"]
        assert worker["phone"][3:7] == "****"
    assert audit(svc, "alpha") == []
    # Asking to unmask changes nothing for an employer.
    again = svc.call("GET", f"/api/workers?season={SEASON}&masked=false", "alpha").json()
    assert all(w["masked"] for w in again)


def test_dispatcher_reads_are_unmasked_and_audited(svc: Service) -> None:
    """A dispatcher's read shows the full numbers and leaves one audit entry naming the workers."""
    workers = svc.call("GET", f"/api/workers?season={SEASON}", "auditor").json()
    assert {w["id_number"] for w in workers} >= {make_id_number(n) for n in range(1, 5)}
    [entry] = audit(svc, "auditor")
    assert entry["action"] == "list workers"
    assert entry["records"] == len(workers)
    assert sorted(entry["worker_keys"]) == sorted(str(w["id"]) for w in workers)
    assert entry["at"]
    one = svc.call("GET", f"/api/workers/{workers[0]['id']}", "auditor").json()
    assert not one["masked"]
    newest = audit(svc, "auditor")[0]
    assert newest["action"] == "read worker" and newest["worker_keys"] == [str(workers[0]["id"])]


def test_dispatcher_may_browse_masked_without_audit(svc: Service) -> None:
    """With ?masked=true a dispatcher sees masks and leaves no audit entry."""
    before = len(audit(svc, "dispatcher"))
    workers = svc.call("GET", f"/api/workers?season={SEASON}&masked=true", "dispatcher").json()
    assert all(w["masked"] for w in workers)
    assert len(audit(svc, "dispatcher")) == before


def test_manifest_reads_are_audited(svc: Service) -> None:
    """An unmasked manifest is an audited read; the employer's manifest is masked."""
    plan = svc.run_plan(SEASON)
    svc.call("POST", f"/api/plans/{plan['id']}/publish", "dispatcher")
    trip = svc.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()[0]
    url = f"/api/plans/{plan['id']}/trips/{trip['trip_id']}/manifest.csv"
    assert svc.call("GET", url, "auditor").status_code == 200
    entry = audit(svc, "auditor")[0]
    assert entry["action"] == f"manifest of plan {plan['id']} trip {trip['trip_id']}"
    assert entry["records"] == len(trip["passengers"])
    masked = svc.call("GET", url, "alpha").content.decode("utf-8-sig")
    assert make_id_number(1) not in masked and "**********" in masked


def test_audit_log_never_holds_an_id_number(svc: Service) -> None:
    """Nothing in the audit log is an ID number or phone."""
    text = svc.call("GET", "/api/audit", "dispatcher").text
    for n in range(1, 5):
        assert make_id_number(n) not in text
        assert worker_row(n)["phone"] not in text


def test_audit_is_for_dispatchers_only(svc: Service) -> None:
    assert svc.call("GET", "/api/audit", "alpha").status_code == 403


def test_registration_answer_is_masked_for_employers(svc: Service) -> None:
    """Even the answer to an employer's own registration is masked."""
    response = svc.call("POST", f"/api/workers?season={SEASON}", "alpha", json=worker_row(7))
    assert response.json()["workers"][0]["masked"] is True
    assert make_id_number(7) not in response.text
