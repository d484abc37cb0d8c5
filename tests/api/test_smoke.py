def test_login_and_me(api):
    r = api.get("/me", user="199001152015032001")
    assert r.status_code == 200, r.json
    assert r.json["enrollment"]["status"] == "not_enrolled"
