"""A Russian 1C export through the HTTP API: its own headers, cp1251, ';', amounts in рублях."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crosspromo.accounts import service as accounts
from crosspromo.accounts.models import Role
from crosspromo.sales.models import Transaction
from tests.conftest import make_owner, sign_in
from tests.imports.test_import_api import confirm_mapping, finish_job

DATA = Path(__file__).parents[1] / "data"


def _key(db: Session, business: Any) -> dict[str, str]:
    token, _ = accounts.create_api_key(db, business_id=business.id, role=Role.manager)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def _post(client: TestClient, auth: dict[str, str], kind: str, name: str, **data: str) -> Any:
    files = {"file": (name, (DATA / name).read_bytes(), "text/csv")}
    return client.post(f"/api/v1/imports/{kind}", headers=auth, files=files, data=data)


def _shop(client: TestClient, db: Session) -> tuple[Any, dict[str, str]]:
    _, cafe = make_owner(
        db, "owner@example.com", "Кофейня", "amenity=cafe", timezone="Europe/Moscow"
    )
    auth = _key(db, cafe)
    customers = _post(client, auth, "customers", "1c_customers_cp1251.csv", business=cafe.slug)
    assert customers.status_code == 200, customers.text
    assert customers.json()["inserted"] == 3
    return cafe, auth


def test_1c_sales_export_imports_with_its_own_headers(client: TestClient, db: Session) -> None:
    cafe, auth = _shop(client, db)
    check = _post(
        client, auth, "transactions", "1c_sales_cp1251.csv", business=cafe.slug, dry_run="true"
    )
    assert check.status_code == 200, check.text
    summary = check.json()
    assert summary["dry_run"] and summary["inserted"] == 5
    assert summary["encoding"] == "cp1251" and summary["delimiter"] == ";"
    assert summary["mapping"]["Сумма"] == "amount" and summary["mapping"]["Кассир"] == ""
    assert db.scalar(select(Transaction).limit(1)) is None
    done = _post(client, auth, "transactions", "1c_sales_cp1251.csv", business=cafe.slug)
    assert done.status_code == 200, done.text
    assert done.json()["inserted"] == 5
    db.expire_all()
    first = db.scalar(select(Transaction).where(Transaction.external_id == "000123"))
    assert first is not None
    assert first.amount_minor == 123450 and first.customer_id is not None
    assert first.at.isoformat() == "2026-11-20T07:15:00+00:00"  # 10:15 in Moscow
    assert first.items == "Капучино;Круассан"
    amounts = sorted(t.amount_minor for t in db.scalars(select(Transaction)))
    assert amounts == [9990, 35000, 123450, 210000, 456000]


def test_every_error_of_a_file_in_one_pass(client: TestClient, db: Session) -> None:
    cafe, auth = _shop(client, db)
    response = _post(client, auth, "transactions", "1c_sales_bad_cp1251.csv", business=cafe.slug)
    assert response.status_code == 422
    problem = response.json()
    summary = problem["summary"]
    lines = sorted({e["line"] for e in problem["errors"]})
    # a date that does not exist, an unknown customer, a repeated receipt, an amount in words
    assert lines == [3, 4, 5, 6]
    assert summary["rejected"] == 4 == len(lines)
    assert summary["error_count"] == 4 and summary["inserted"] == 0
    by_line = {e["line"]: e for e in problem["errors"]}
    assert by_line[4]["field"] == "customer" and "C-99" in by_line[4]["message"]
    assert by_line[5]["field"] == "id" and "repeats line 2" in by_line[5]["message"]
    assert by_line[6]["field"] == "amount"
    assert any("column Сумма (amount)" in e for e in summary["errors"])
    assert db.scalar(select(Transaction).limit(1)) is None


def test_mapping_in_the_request_is_remembered_and_suggested(
    client: TestClient, db: Session
) -> None:
    cafe, auth = _shop(client, db)
    headers = ["Дата", "Номер чека", "Покупатель", "Сумма", "Товары", "Кассир", "Касса"]
    url = f"/api/v1/businesses/{cafe.id}/imports/transactions/mapping"
    suggested = client.post(url, headers=auth, json={"headers": headers})
    assert suggested.status_code == 200, suggested.text
    assert suggested.json()["remembered"] is False
    assert suggested.json()["mapping"]["Номер чека"] == "id"
    # The owner says the customer column is not to be read.
    chosen = json.dumps({"Покупатель": ""})
    done = _post(
        client, auth, "transactions", "1c_sales_cp1251.csv", business=cafe.slug, mapping=chosen
    )
    assert done.status_code == 200, done.text
    db.expire_all()
    assert all(t.customer_id is None for t in db.scalars(select(Transaction)))
    again = client.post(url, headers=auth, json={"headers": list(reversed(headers))})
    assert again.json()["remembered"] is True
    assert again.json()["mapping"]["Покупатель"] == ""
    assert again.json()["mapping"]["Сумма"] == "amount"


def test_bad_mapping_is_a_problem_not_a_crash(client: TestClient, db: Session) -> None:
    cafe, auth = _shop(client, db)
    for bad in ("[1]", '{"Дата": "birthday"}', '{"Нет такой": "at"}', "{"):
        response = _post(
            client, auth, "transactions", "1c_sales_cp1251.csv", business=cafe.slug, mapping=bad
        )
        assert response.status_code == 422, (bad, response.text)
    url = f"/api/v1/businesses/{cafe.id}/imports/nonsense/mapping"
    assert client.post(url, headers=auth, json={"headers": ["a"]}).status_code == 404


def test_templates_download(client: TestClient, db: Session) -> None:
    cafe, auth = _shop(client, db)
    ru = client.get("/api/v1/imports/templates/transactions.csv?lang=ru", headers=auth)
    assert ru.status_code == 200
    assert ru.content.decode("utf-8-sig").startswith("Номер чека;Дата и время;Сумма")
    xlsx = client.get("/api/v1/imports/templates/customers.xlsx", headers=auth)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/api/v1/imports/templates/customers.pdf", headers=auth).status_code == 404


def _upload(client: TestClient, csrf: str, business: Any, name: str, **form: str) -> Any:
    files = {"file": (name, (DATA / name).read_bytes(), "text/csv")}
    data = {"csrf_token": csrf, **form}
    return client.post(f"/b/{business.id}/imports", data=data, files=files)


def test_pages_in_russian_map_the_1c_export_and_list_every_error(
    client: TestClient, db: Session
) -> None:
    cafe, _auth = _shop(client, db)
    csrf = sign_in(client, "owner@example.com")
    client.cookies.set("locale", "ru")
    mapping_page = _upload(client, csrf, cafe, "1c_sales_bad_cp1251.csv", kind="transactions")
    assert mapping_page.status_code == 200, mapping_page.text
    assert "Столбцы файла" in mapping_page.text and "C-99" in mapping_page.text
    page = finish_job(client, confirm_mapping(client, mapping_page.text))
    text = html.unescape(page.text)
    assert "Файл отклонён" in text
    assert "Строка 4, столбец «Покупатель»: неизвестный покупатель" in text
    assert "Строка 5, столбец «Номер чека»: '000201' повторяет строку 2" in text
    assert "Строка 6, столбец «Сумма»" in text and "Строка 3, столбец «Дата»" in text
    assert text.count("<li>Строка") == 4
    # A check-only run of the good file, mapped the same way (remembered), says "would".
    good = _upload(client, csrf, cafe, "1c_sales_cp1251.csv", kind="transactions", dry_run="on")
    assert "Отклонено" not in good.text
    checked = finish_job(client, confirm_mapping(client, good.text))
    assert "Будет добавлено" in checked.text and "Добавлено<" not in checked.text
    assert db.scalar(select(Transaction).limit(1)) is None
    # The mapping is remembered for the next file of this shape.
    again = _upload(client, csrf, cafe, "1c_sales_cp1251.csv", kind="transactions")
    assert "выбрали в прошлый раз" in again.text
    done = finish_job(client, confirm_mapping(client, again.text, {"column-2": ""}))
    assert "Импортировано" in done.text or "Загружено" in done.text, done.text
    db.expire_all()
    assert len(list(db.scalars(select(Transaction)))) == 5


def test_mapping_step_refuses_a_missing_required_column(client: TestClient, db: Session) -> None:
    cafe, _auth = _shop(client, db)
    csrf = sign_in(client, "owner@example.com")
    page = _upload(client, csrf, cafe, "1c_sales_cp1251.csv", kind="transactions")
    refused = confirm_mapping(client, page.text, {"column-3": ""})  # Сумма not imported
    assert refused.status_code == 422
    assert "Choose a column for: Amount." in refused.text


def test_cli_map_pairs_and_suggested_rest(
    client: TestClient, db: Session, settings: Any, monkeypatch: Any
) -> None:
    cafe, _auth = _shop(client, db)
    monkeypatch.setenv("CROSSPROMO_DATABASE_URL", settings.resolved_database_url())
    from crosspromo.cli import app as cli
    from crosspromo.settings import get_settings

    get_settings.cache_clear()
    try:
        path = str(DATA / "1c_sales_cp1251.csv")
        args = ["import", "transactions", path, "--business", cafe.slug, "--json"]
        bad = CliRunner().invoke(cli, [*args, "--map", "Дата=birthday"])
        assert bad.exit_code == 2 and "not a field" in bad.output
        done = CliRunner().invoke(cli, [*args, "--map", "Дата=occurred_at", "--map", "Покупатель="])
        assert done.exit_code == 0, done.output
        summary = json.loads(done.output[done.output.index("{") :])
    finally:
        get_settings.cache_clear()
    assert summary["inserted"] == 5
    assert summary["mapping"]["Дата"] == "at" and summary["mapping"]["Покупатель"] == ""
    assert summary["mapping"]["Номер чека"] == "id"  # suggested
    db.expire_all()
    assert all(t.customer_id is None for t in db.scalars(select(Transaction)))
