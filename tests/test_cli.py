"""The `dilemmagesprek` command line: help, createuser, and the generated secret key."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dilemmagesprek import cli
from dilemmagesprek.accounts.models import User
from dilemmagesprek.ops.management.commands import serve
from dilemmagesprek.ops.management.commands.serve import find_catalogs, stale_catalogs

REPO_ROOT = Path(__file__).resolve().parent.parent
GOOD_PASSWORD = "paars-kompas-vijver-77"


@pytest.fixture
def password_file(tmp_path: Path):
    def write(password: str) -> Path:
        path = tmp_path / "password"
        path.write_text(f"{password}\nignored second line\n")
        return path

    return write


def test_it_prints_help_without_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main([])

    out = capsys.readouterr().out
    assert out.startswith("Gebruik: dilemmagesprek")
    assert "serve" in out
    assert "createuser" in out


@pytest.mark.django_db
def test_it_creates_a_facilitator_from_a_password_file(password_file) -> None:
    call_command("createuser", "anna", "--password-file", str(password_file(GOOD_PASSWORD)))

    user = User.objects.get(username="anna")
    assert user.role == User.Role.FACILITATOR
    assert user.password.startswith("argon2$")
    assert user.check_password(GOOD_PASSWORD)


@pytest.mark.django_db
def test_it_creates_an_admin_with_email(password_file) -> None:
    call_command(
        "createuser",
        "beheer",
        "--role",
        "admin",
        "--email",
        "beheer@example.org",
        "--password-file",
        str(password_file(GOOD_PASSWORD)),
    )

    user = User.objects.get(username="beheer")
    assert user.is_admin
    assert user.email == "beheer@example.org"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_weak_password_with_a_dutch_message(
    password_file, capsys: pytest.CaptureFixture[str]
) -> None:
    # Through cli.main, as an operator runs it: an exit code and a message, no traceback.
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["createuser", "bram", "--password-file", str(password_file("123456789012"))])

    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "Wachtwoord geweigerd" in err
    assert "Dit wachtwoord bevat alleen cijfers." in err
    assert "Traceback" not in err
    assert not User.objects.filter(username="bram").exists()


@pytest.mark.django_db
def test_it_refuses_an_existing_username(password_file) -> None:
    User.objects.create_user("carla", password=GOOD_PASSWORD)

    with pytest.raises(CommandError, match="bestaat al"):
        call_command("createuser", "Carla", "--password-file", str(password_file(GOOD_PASSWORD)))

    assert User.objects.filter(username__iexact="carla").count() == 1


@pytest.mark.django_db
def test_it_refuses_a_missing_password_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="niet lezen"):
        call_command("createuser", "dirk", "--password-file", str(tmp_path / "nope"))


def read_secret_key(data_dir: Path) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL")
    }
    env["DILEMMAGESPREK_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "dilemmagesprek.settings"
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_it_generates_a_private_secret_key_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"

    first = read_secret_key(data_dir)
    second = read_secret_key(data_dir)

    key_file = data_dir / "secret_key"
    assert len(first) >= 50
    assert first == second == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_it_compiles_only_missing_or_outdated_catalogues(tmp_path: Path) -> None:
    messages = tmp_path / "locale" / "nl" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    fresh, old, new = (messages / f"{name}.po" for name in ("fresh", "old", "new"))
    for po in (fresh, old, new):
        po.write_text("")
    fresh.with_suffix(".mo").write_text("")
    old.with_suffix(".mo").write_text("")
    os.utime(old.with_suffix(".mo"), (1, 1))  # compiled long before its .po changed

    missing, outdated = stale_catalogs(find_catalogs([tmp_path]))

    assert missing == [new]
    assert outdated == [old]


def test_serve_builds_the_static_files_only_when_their_sources_changed(
    settings, tmp_path: Path, monkeypatch
) -> None:
    settings.STATIC_ROOT = tmp_path
    built: list[str] = []

    def collectstatic(name: str, **options) -> None:
        built.append(name)
        (tmp_path / "staticfiles.json").write_text("{}")

    monkeypatch.setattr(serve, "call_command", collectstatic)
    command = serve.Command()
    command.collect_static()  # the first start builds them
    command.collect_static()  # a restart with the same sources does not
    assert built == ["collectstatic"]

    # A source file changes (here: its fingerprint), or the built copy went missing.
    monkeypatch.setattr(serve, "static_fingerprint", lambda: "changed")
    command.collect_static()
    (tmp_path / "staticfiles.json").unlink()
    command.collect_static()
    assert built == ["collectstatic"] * 3


def test_the_static_fingerprint_follows_the_source_files(tmp_path: Path, settings) -> None:
    before = serve.static_fingerprint()
    assert before == serve.static_fingerprint()
    source = REPO_ROOT / "dilemmagesprek" / "static" / "dilemmagesprek" / "live.js"
    stat_before = source.stat()
    try:
        os.utime(source, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns + 1_000_000_000))
        assert serve.static_fingerprint() != before
    finally:
        os.utime(source, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))


def test_it_refuses_several_workers_without_redis(settings) -> None:
    settings.REDIS_URL = ""

    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("serve", "--workers", "2", "--no-demo")


def test_backup_makes_a_consistent_copy_while_the_server_could_run(tmp_path):
    import sqlite3
    import subprocess
    import sys

    env = {**__import__("os").environ, "DILEMMAGESPREK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dilemmagesprek.cli", *args], env=env, capture_output=True,
        text=True, timeout=120,
    )
    assert run("migrate", "-v0").returncode == 0
    assert run("demo").returncode == 0
    target = tmp_path / "kopie.sqlite3"
    result = run("backup", str(target))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(target) as copy:
        titles = copy.execute("SELECT title FROM conversations_conversation").fetchall()
    assert titles and "Buurtbudget" in titles[0][0]
    assert (target.stat().st_mode & 0o777) == 0o600
    again = run("backup", str(target))
    assert again.returncode != 0 and "bestaat al" in again.stderr
