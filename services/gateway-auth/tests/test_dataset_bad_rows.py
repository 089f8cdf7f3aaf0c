"""``POST /v1/datasets`` with rows a CSV reader or a backtest cannot use: 422 naming each row and
column, nothing stored, never a 5xx. The gateway and a REAL market-data runtime (see ``md_api``)."""

from __future__ import annotations

from gateway_testkit import Api
from test_routes_market_data import md_api

__all__ = ["md_api"]  # the fixture, shared with the other dataset routes' tests

HEADER = "timestamp,open,high,low,close,volume"


async def test_a_field_over_the_csv_field_limit_is_422_naming_the_row(md_api: Api) -> None:
    _, session = await md_api.user()
    huge = "9" * 200_000  # Python's csv module stops at 131,072 characters per field
    text = f"{HEADER}\n0,1,1,1,1,1\n3600,{huge},1,1,1,1\n7200,1,1,1,1,1\n"
    refused = await md_api.http.post("/v1/datasets", headers=session, params={"name": "wide"}, content=text)
    assert refused.status_code == 422, refused.text
    details = refused.json()["details"]
    assert details["bad_row_count"] == 1 and details["rows"][0]["line"] == 3, details
    assert "field larger than field limit" in details["rows"][0]["reason"]
    assert (await md_api.http.get("/v1/datasets", headers=session)).json()["datasets"] == []


async def test_impossible_prices_and_bars_are_422_naming_row_and_column(md_api: Api) -> None:
    _, session = await md_api.user()
    rows = [
        "0,100,110,90,105,1",
        "3600,-1,110,90,105,1",
        "7200,100,0,90,105,1",
        "10800,100,110,90,1e308,1",
        "14400,100,90,110,100,1",
        "18000,100,110,90,105,-2",
        "21600,100,110,90,105,NaN",
    ]
    content = "\n".join([HEADER, *rows]) + "\n"
    refused = await md_api.http.post("/v1/datasets", headers=session, params={"name": "bad"}, content=content)
    assert refused.status_code == 422, refused.text
    details = refused.json()["details"]
    assert details["bad_row_count"] == 6
    assert [(row["line"], row["column"]) for row in details["rows"]] == [
        (3, "open"),
        (4, "high"),
        (5, "close"),
        (6, "high"),
        (7, "volume"),
        (8, "volume"),
    ]
    assert all(row["reason"] for row in details["rows"])
    assert (await md_api.http.get("/v1/datasets", headers=session)).json()["datasets"] == []
