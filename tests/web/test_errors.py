"""Error answers: full pages normally, just the message for an HTMX swap, JSON under /api."""


def test_unknown_page_is_a_full_404_page(client):
    response = client.get("/book/no-such-business")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" in body and "Page not found" in body


def test_unknown_page_for_htmx_is_only_the_message(client):
    response = client.get("/book/no-such-business", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" not in body
    assert 'class="error-page"' in body and "Page not found" in body
    assert "HX-Request" in response.headers["Vary"]


def test_unknown_api_url_is_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
