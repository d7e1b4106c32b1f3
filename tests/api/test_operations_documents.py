"""Every document the CLI writes is downloadable from the service: trip sheets, trips.csv,
duties.csv, per-company lists (CSV cells that look like formulas are quoted)."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader

from tests.api.conftest import Service, open_season, worker_row
from tests.api.test_operations_crews import crew_body


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_cli_documents_from_the_service(service: Service) -> None:
    open_season(service, "docs-2026", companies=[("ALPHA", "=阿尔法电器"), ("BETA", "贝塔制造")])
    people = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in range(1, 41)]
    assert service.call(
        "POST", "/api/workers?season=docs-2026", "dispatcher", json=people
    ).is_success
    plan = service.run_plan("docs-2026")
    base = f"/api/plans/{plan['id']}"
    trips = service.call("GET", f"{base}/trips", "dispatcher").json()

    listed = rows(service.call("GET", f"{base}/trips.csv", "dispatcher").content)
    assert sorted(r["trip_id"] for r in listed) == sorted(t["trip_id"] for t in trips)
    assert any("=" in r["pickups"] for r in listed)
    assert all(r["pickups"].startswith("'=") for r in listed if "=" in r["pickups"])

    duties = rows(service.call("GET", f"{base}/duties.csv", "dispatcher").content)
    assert {r["trip_id"] for r in duties if r["kind"] == "trip"} == {t["trip_id"] for t in trips}

    trip_id = trips[0]["trip_id"]
    body = crew_body("浙B77777", first=900)
    put = service.call("PUT", f"{base}/trips/{trip_id}/crew", "dispatcher", json=body)
    assert put.status_code == 200, put.text
    sheet = service.call("GET", f"{base}/trips/{trip_id}/sheet.pdf", "dispatcher")
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(sheet.content)).pages
    )
    assert "浙B77777" in text and "宁波长运包车公司" in text and "王车长" in text
    for driver in body["drivers"]:
        assert driver["name"] in text and driver["phone"] in text
    other = trips[1]["trip_id"]
    unassigned = service.call("GET", f"{base}/trips/{other}/sheet.pdf", "dispatcher")
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(unassigned.content)).pages
    )
    assert "车牌号未分配" in text

    company = rows(service.call("GET", f"{base}/companies/BETA/notices.csv", "dispatcher").content)
    assert len(company) == 20 and all(r["状态"] == "已安排" for r in company)
    service.call("POST", f"{base}/publish", "dispatcher")
    service.add_user("alpha-docs", "employer", "ALPHA")
    assert (
        service.call("GET", f"{base}/companies/BETA/notices.csv", "alpha-docs").status_code == 404
    )
    own = rows(service.call("GET", f"{base}/companies/ALPHA/notices.csv", "alpha-docs").content)
    assert len(own) == 20 and all("****" in r["手机号"] for r in own)
    mine = rows(service.call("GET", f"{base}/trips.csv", "alpha-docs").content)
    assert mine and len(mine) <= len(listed)
    assert service.call("GET", f"{base}/duties.csv", "alpha-docs").status_code == 403


def test_one_companys_zip_holds_only_its_passengers(service: Service) -> None:
    """documents.zip?company_id= : that company's trips, manifests with its passengers only,
    its notices; the whole plan's zip has everyone."""
    import zipfile

    open_season(service, "zip-2026", companies=[("ALPHA", "阿尔法电器"), ("BETA", "贝塔制造")])
    people = [worker_row(n, company_id="ALPHA" if n % 2 else "BETA") for n in range(1, 21)]
    assert service.call(
        "POST", "/api/workers?season=zip-2026", "dispatcher", json=people
    ).is_success
    plan = service.run_plan("zip-2026")
    url = f"/api/plans/{plan['id']}/documents.zip"
    whole = zipfile.ZipFile(io.BytesIO(service.call("GET", url, "dispatcher").content))
    beta = service.call("GET", url, "dispatcher", params={"company_id": "BETA"})
    assert beta.status_code == 200, beta.text
    only = zipfile.ZipFile(io.BytesIO(beta.content))
    names = {n.rsplit("/", 1)[-1] for n in only.namelist()}
    assert "notices.csv" in names
    manifests = [n for n in only.namelist() if n.endswith(".csv") and "/manifests/" in n]
    assert manifests
    for name in manifests:
        listed = rows(only.read(name))
        assert listed and all(r["工作单位"] == "贝塔制造" for r in listed)
    notices = rows(only.read(next(n for n in only.namelist() if n.endswith("/notices.csv"))))
    assert len(notices) == 10 and {r["单位编号"] for r in notices} == {"BETA"}
    assert len(whole.namelist()) >= len(only.namelist())
    missing = service.call("GET", url, "dispatcher", params={"company_id": "NOPE"})
    assert missing.status_code == 404
