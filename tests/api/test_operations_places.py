"""Places people can find: a county's named drop-off point and the gate's address on the
manifests, trip sheets and notices."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import Service, open_season, worker_row


def test_drop_off_points_and_gate_addresses_are_printed(service: Service) -> None:
    open_season(service, "places-2026")
    gate = {"company_id": "ALPHA", "name": "阿尔法电器", "lon": 121.24, "lat": 30.17,
            "address": "慈溪市桥头镇工业区纬一路8号"}  # fmt: skip
    assert service.call(
        "POST", "/api/companies?season=places-2026", "dispatcher", json=gate
    ).is_success
    point = {"name": "临泉县汽车站", "address": "临泉县城关街道人民路1号"}
    url = "/api/seasons/places-2026/drop-points"
    put = service.call("PUT", f"{url}/341221", "dispatcher", json=point)
    assert put.status_code == 200 and put.json()["county"] == "临泉县"
    assert service.call("PUT", f"{url}/999999", "dispatcher", json=point).status_code == 404
    assert service.call("GET", url, "dispatcher").json() == [put.json()]

    rows = [worker_row(n, company_id="ALPHA") for n in range(1, 13)]
    assert service.call(
        "POST", "/api/workers?season=places-2026", "dispatcher", json=rows
    ).is_success
    plan = service.run_plan("places-2026")
    trips = service.call("GET", f"/api/plans/{plan['id']}/trips", "dispatcher").json()
    [linquan] = [t for t in trips if any(s["adcode"] == "341221" for s in t["stops"])]
    manifest = service.call(
        "GET", f"/api/plans/{plan['id']}/trips/{linquan['trip_id']}/manifest.json", "dispatcher"
    ).json()
    assert {r["alighting"] for r in manifest["rows"]} == {"临泉县汽车站"}
    text = service.call("GET", f"/api/plans/{plan['id']}/notices.csv", "dispatcher").content
    notices = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    messages = [r["短信内容"] for r in notices if r["车次"] == linquan["trip_id"]]
    assert messages and all("到临泉县汽车站（临泉县城关街道人民路1号）下车" in m for m in messages)
    assert all("到阿尔法电器（慈溪市桥头镇工业区纬一路8号）上车" in m for m in messages)
    assert service.call("DELETE", f"{url}/341221", "dispatcher").status_code == 204
    assert service.call("DELETE", f"{url}/341221", "dispatcher").status_code == 404
