def test_home_page_renders_with_layout(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"<html" in resp.data and b"Learn from anyone" in resp.data


def test_healthz_reports_database_and_redis(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
