"""Security of the chat: optional login, the warning when exposed without one, upload limits.

The app is served for real (Gradio on a free loopback port) and reached over HTTP with
httpx and gradio_client. The XSS test lives in test_ui_browser.py (document text is shown
escaped) and stays there.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from benchmarks.load import client, final_answer
from qa import Assistant
from seedqa.errors import IndexNotReadyError, SeedqaError
from seedqa.settings import Settings
from ui.app import ChatUI, build_app
from ui.server import launch
from ui.security import exposure_warning, is_loopback, login_pairs

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many drones did Russia fire at Ukraine overnight?"


@pytest.fixture(scope="module")
def seeded_copy(seed_index, tmp_path_factory) -> Path:
    import shutil

    target = tmp_path_factory.mktemp("security") / "index"
    shutil.copytree(seed_index.data_dir, target)
    return target


@pytest.fixture(scope="module")
def locked_app(seeded_copy, seed_index):
    """The app with a login (two users), a 10 kB upload limit, served on a free port."""
    settings = Settings(data_dir=seeded_copy, cache_dir=seed_index.cache_dir, port=0,
                        auth="alice:wonder land,bob:builder", max_file_mb=0.01)
    demo = build_app(Assistant(settings), settings)
    url = launch(demo, settings, block=False)
    yield url
    demo.close()


# --- login ---------------------------------------------------------------------------------


def test_without_login_nothing_but_the_login_page_is_served(locked_app):
    for path in ("config", "gradio_api/info"):
        assert httpx.get(locked_app + path).status_code == 401
    upload = httpx.post(locked_app + "gradio_api/upload", files={"files": ("a.txt", b"hello")})
    assert upload.status_code == 401
    with pytest.raises(Exception):  # the API client cannot even read the app's config
        client(locked_app)


def test_a_wrong_password_is_refused_and_a_right_one_lets_in(locked_app):
    assert httpx.post(locked_app + "login", data={"username": "alice", "password": "wonder"}).status_code >= 400
    assert httpx.post(locked_app + "login", data={"username": "eve", "password": "builder"}).status_code >= 400
    with httpx.Client() as browser:
        assert browser.post(locked_app + "login",
                            data={"username": "bob", "password": "builder"}).status_code == 200
        assert browser.get(locked_app + "config").status_code == 200
    session = client(locked_app, auth=("alice", "wonder land"))
    assert "165" in final_answer(session.predict(QUESTION, api_name="/ask"))
    session.close()


def test_login_pairs_come_from_the_variable_and_the_file(tmp_path):
    logins = tmp_path / "logins"
    logins.write_text("# team\ncarol:pa:ss\n\n dave:secret \n")
    settings = Settings(auth="alice:one,bob:two", auth_file=logins)
    assert login_pairs(settings) == [("alice", "one"), ("bob", "two"), ("carol", "pa:ss"), ("dave", "secret")]
    assert login_pairs(Settings()) == []
    for bad in ("alice", "alice:", ":pw"):
        with pytest.raises(SeedqaError, match="user:password"):
            login_pairs(Settings(auth=bad))
    with pytest.raises(SeedqaError, match="SEEDQA_AUTH_FILE"):
        login_pairs(Settings(auth_file=tmp_path / "missing"))
    assert "alice" not in repr(Settings(auth="alice:one"))  # the password is not in reprs or logs


# --- exposure ------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                                ("127.0.0.2", True), ("0.0.0.0", False), ("::", False),
                                                ("192.168.1.20", False), ("myhost.example", False)])
def test_which_hosts_are_loopback(host, loopback):
    assert is_loopback(host) is loopback
    assert (exposure_warning(host, has_login=False) is None) is loopback
    assert exposure_warning(host, has_login=True) is None


def test_serving_beyond_loopback_without_login_warns_loudly(seeded_copy, seed_index, capfd):
    settings = Settings(data_dir=seeded_copy, cache_dir=seed_index.cache_dir, port=0)
    for host, warned in (("0.0.0.0", True), ("127.0.0.1", False)):
        demo = build_app(Assistant(settings), settings)
        launch(demo, settings, host=host, block=False)
        demo.close()
        err = capfd.readouterr().err
        assert ("WARNING" in err and "SEEDQA_AUTH" in err and "no login" in err) is warned, err
    with_login = Settings(data_dir=seeded_copy, cache_dir=seed_index.cache_dir, port=0, auth="a:b")
    demo = build_app(Assistant(with_login), with_login)
    launch(demo, with_login, host="0.0.0.0", block=False)
    demo.close()
    assert "WARNING" not in capfd.readouterr().err


def test_login_is_off_by_default_on_loopback(seeded_copy, seed_index):
    settings = Settings(data_dir=seeded_copy, cache_dir=seed_index.cache_dir, port=0)
    assert settings.auth is None and settings.host == "127.0.0.1"
    demo = build_app(Assistant(settings), settings)
    url = launch(demo, settings, block=False)
    try:
        assert httpx.get(url + "config").status_code == 200
    finally:
        demo.close()


# --- uploads -------------------------------------------------------------------------------


def test_the_server_refuses_an_upload_over_the_size_limit(locked_app):
    with httpx.Client() as browser:
        browser.post(locked_app + "login", data={"username": "bob", "password": "builder"})
        big = browser.post(locked_app + "gradio_api/upload", files={"files": ("big.txt", b"x" * 20_000)})
        small = browser.post(locked_app + "gradio_api/upload", files={"files": ("small.txt", b"x" * 2_000)})
    assert big.status_code == 413
    assert small.status_code == 200


def test_too_many_files_at_once_are_refused_whole(tmp_path):
    settings = Settings(data_dir=tmp_path / "index", max_upload_files=2)
    chat = ChatUI(Assistant(settings), settings)
    paths = []
    for number in range(3):
        path = tmp_path / f"note{number}.txt"
        path.write_text(f"Note {number}\n\nThe harbour crane {number} lifts 80 tonnes.\n")
        paths.append(str(path))
    with pytest.warns(UserWarning, match="SEEDQA_MAX_UPLOAD_FILES"):
        status = chat.upload(paths)[0]
    assert "over the limit of 2" in status
    with pytest.raises(IndexNotReadyError):  # nothing was written, not even an empty index
        chat.assistant.documents()
    assert not chat.uploads.files()
    assert "added" in chat.upload(paths[:2])[0]


def test_uploads_are_kept_under_the_data_dir_only_when_read(tmp_path):
    settings = Settings(data_dir=tmp_path / "index")
    chat = ChatUI(Assistant(settings), settings)
    good, bad, wrong = tmp_path / "good.md", tmp_path / "bad.txt", tmp_path / "tool.exe"
    good.write_text("# Good\n\nThe ferry leaves at noon.\n")
    bad.write_bytes(b"\x00\x01binary\x00")
    wrong.write_bytes(b"MZ\x90\x00")
    with pytest.warns(UserWarning):
        chat.upload([str(good), str(bad), str(wrong)])
    assert chat.upload_dir.parent == settings.data_dir
    assert [chat.uploads.name(p) for p in chat.uploads.files()] == ["good.md"]
