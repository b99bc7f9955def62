"""A project's terraform_version picks a binary: versioned names in the bin dir,
constraints to the highest match, downloads verified against SHA256SUMS from a
loopback mirror of the installed terraform."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.domain.tfversions import parse_constraint, parse_version
from atlantis_py.runner.download import OPENTOFU, TERRAFORM
from atlantis_py.runner.versions import Binaries, Resolved, VersionUnavailable, required_version
from tests.support.tfmirror import add_release, serve


def installed_version() -> str:
    out = subprocess.run(["terraform", "version", "-json"], capture_output=True, check=True)
    return str(json.loads(out.stdout)["terraform_version"])


INSTALLED = installed_version()


def stub(folder: Path, name: str) -> Path:
    """A versioned binary standing in for one we don't have."""
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tf-bin"
    folder.mkdir()
    for name in ("terraform1.5.7", "terraform_1.9.8", "terraform1.9.2", "terraform1.10.0-beta1",
                 "terraform2.0.0", "tofu1.8.0", "terraform-docs", "terraform1.7.0.bak"):
        stub(folder, name)
    (folder / "terraform1.6.0").write_text("not executable")
    return folder


def binaries(bin_dir: Path, tmp_path: Path, **kw: object) -> Binaries:
    return Binaries(TERRAFORM, "terraform", [bin_dir], tmp_path / "cache", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("wanted, picked", [
    pytest.param("1.5.7", "terraform1.5.7", id="exact-atlantis-name"),
    pytest.param("v1.9.8", "terraform_1.9.8", id="exact-underscore-name-v-prefix"),
    pytest.param("= 1.9.2", "terraform1.9.2", id="exact-with-operator"),
    pytest.param("~> 1.9.0", "terraform_1.9.8", id="pessimistic-patch"),
    pytest.param(">= 1.5, < 1.9", "terraform1.5.7", id="range"),
    pytest.param("1.10.0-beta1", "terraform1.10.0-beta1", id="exact-prerelease"),
    pytest.param(">= 1.5", "terraform2.0.0", id="highest"),
])
def test_a_version_picks_its_binary_from_the_bin_dir(bin_dir: Path, tmp_path: Path,
                                                     wanted: str, picked: str) -> None:
    assert binaries(bin_dir, tmp_path).resolve(wanted).path == str(bin_dir / picked)


def test_a_constraint_may_pick_the_plain_binary_by_its_version(bin_dir: Path,
                                                               tmp_path: Path) -> None:
    major = parse_version(INSTALLED).major
    found = binaries(bin_dir, tmp_path).resolve(f"~> {major}.{parse_version(INSTALLED).minor}.0")
    assert found.path == shutil.which("terraform")
    assert found.version == parse_version(INSTALLED)


def test_no_version_asked_runs_the_plain_binary_or_the_servers_default(
        bin_dir: Path, tmp_path: Path) -> None:
    plain = binaries(bin_dir, tmp_path).resolve(None)
    assert (plain.path, plain.version) == ("terraform", parse_version(INSTALLED))
    assert binaries(bin_dir, tmp_path, default_version="1.5.7").resolve(None).path == \
        str(bin_dir / "terraform1.5.7")
    assert binaries(bin_dir, tmp_path, default_version="1.5.7").resolve("1.9.2").path == \
        str(bin_dir / "terraform1.9.2")


def test_opentofu_picks_tofu_binaries(bin_dir: Path, tmp_path: Path) -> None:
    tofu = Binaries(OPENTOFU, "tofu", [bin_dir], tmp_path / "cache")
    assert tofu.resolve("~> 1.8").path == str(bin_dir / "tofu1.8.0")
    with pytest.raises(VersionUnavailable, match=r"tofu 1\.9\.8 is not available"):
        tofu.resolve("1.9.8")


@pytest.mark.parametrize("wanted, message", [
    pytest.param("1.6.0", r"terraform 1\.6\.0 is not available on this server: no matching "
                 r"binary \(terraformVERSION\) in .*tf-bin or on PATH, and downloads are off",
                 id="not-executable-is-not-there"),
    pytest.param("~> 3.0", r"terraform ~> 3\.0 is not available", id="no-match"),
    pytest.param("latest", r"'latest' is not a version or constraint", id="not-a-version"),
])
def test_a_version_that_cannot_be_had_says_why(bin_dir: Path, tmp_path: Path, wanted: str,
                                               message: str) -> None:
    with pytest.raises(VersionUnavailable, match=message) as err:
        binaries(bin_dir, tmp_path).resolve(wanted)
    if wanted != "latest":
        assert "1.5.7, 1.9.2, 1.9.8" in str(err.value)
        assert "1.10.0-beta1" in str(err.value)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mirror")
    add_release(root, TERRAFORM, "1.42.0")
    add_release(root, TERRAFORM, "1.43.0", wrong_sum=True)
    add_release(root, OPENTOFU, "1.8.5")
    (root / "terraform" / "index.json").write_text(json.dumps(
        {"name": "terraform", "versions": {"1.41.0": {}, "1.42.0": {}, "2.0.0": {}}}))
    with serve(root) as url:
        yield url


def runs(binary: str) -> str:
    out = subprocess.run([binary, "version", "-json"], capture_output=True, check=True)
    return str(json.loads(out.stdout)["terraform_version"])


def test_download_verifies_unzips_and_caches(mirror: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    found = Binaries(TERRAFORM, "terraform", [], cache, download_enabled=True,
                     download_url=mirror)
    path = found.resolve("1.42.0").path
    assert path == str(cache / "terraform1.42.0")
    assert runs(path) == INSTALLED
    assert sorted(p.name for p in cache.iterdir()) == ["terraform1.42.0"]
    # cached: found again without the mirror
    offline = Binaries(TERRAFORM, "terraform", [], cache)
    assert offline.resolve("~> 1.42.0").path == path


def test_a_constraint_downloads_the_highest_release_that_matches(mirror: str,
                                                                 tmp_path: Path) -> None:
    found = Binaries(TERRAFORM, "terraform", [], tmp_path / "cache", download_enabled=True,
                     download_url=mirror)
    assert found.resolve(">= 1.40, < 2.0") == Resolved(
        str(tmp_path / "cache" / "terraform1.42.0"), parse_version("1.42.0"))


def test_a_zip_that_does_not_match_its_sha256sums_is_refused(mirror: str,
                                                             tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    found = Binaries(TERRAFORM, "terraform", [], cache, download_enabled=True,
                     download_url=mirror)
    with pytest.raises(VersionUnavailable, match=r"terraform 1\.43\.0 could not be downloaded:"
                       r" terraform_1\.43\.0_\w+_\w+\.zip from http://127.*does not match "
                       r"its SHA256SUMS .*Refused") as err:
        found.resolve("1.43.0")
    assert "expected sha256" in str(err.value)
    assert list(cache.iterdir()) == []


def test_a_release_the_mirror_lacks_says_so(mirror: str, tmp_path: Path) -> None:
    found = Binaries(TERRAFORM, "terraform", [], tmp_path / "cache", download_enabled=True,
                     download_url=mirror)
    with pytest.raises(VersionUnavailable, match=r"cannot fetch http://127.*"
                       r"terraform_1\.44\.0_SHA256SUMS: HTTP 404"):
        found.resolve("1.44.0")


def test_opentofu_downloads_from_its_layout(mirror: str, tmp_path: Path) -> None:
    found = Binaries(OPENTOFU, "tofu", [], tmp_path / "cache", download_enabled=True,
                     download_url=mirror)
    path = found.resolve("1.8.5").path
    assert path == str(tmp_path / "cache" / "tofu1.8.5")
    assert runs(path) == INSTALLED


def test_two_downloads_of_one_version_at_once_leave_one_whole_binary(
        mirror: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    results: list[str] = []
    # two resolvers stand for two worker processes: no lock is shared
    workers = [Binaries(TERRAFORM, "terraform", [], cache, download_enabled=True,
                        download_url=mirror) for _ in range(2)]
    threads = [threading.Thread(target=lambda b=b: results.append(b.resolve("1.42.0").path))
               for b in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [str(cache / "terraform1.42.0")] * 2
    assert [p.name for p in cache.iterdir()] == ["terraform1.42.0"]
    assert runs(results[0]) == INSTALLED


def test_constraints_follow_go_version() -> None:
    v = parse_version
    assert parse_constraint("~> 1.9").allows(v("1.12.0"))
    assert not parse_constraint("~> 1.9").allows(v("2.0.0"))
    assert not parse_constraint("~> 1.9.0").allows(v("1.10.0"))
    assert not parse_constraint(">= 1.0").allows(v("1.10.0-beta1"))
    assert parse_constraint("!= 1.9.8, > 1.9.7").best([v("1.9.8"), v("1.9.7"), v("1.9.1")]) is None
    assert parse_constraint("1.9").exact == v("1.9.0")


@pytest.mark.parametrize("files, found", [
    pytest.param({"versions.tf": 'terraform {\n  required_version = "1.5.7"\n}\n'}, "1.5.7",
                 id="hcl"),
    pytest.param({"main.tf": 'terraform {\n  required_version = ">= 1.5, < 2"\n}\n',
                  "other.tf": 'terraform {\n  required_version = ">= 1.5, < 2"\n}\n'},
                 ">= 1.5, < 2", id="same-twice"),
    pytest.param({"main.tf.json": '{"terraform": {"required_version": "~> 1.9.0"}}'},
                 "~> 1.9.0", id="json"),
    pytest.param({"main.tf": '# required_version = "1.0.0"\n'}, None, id="commented-out"),
    pytest.param({"a.tf": 'terraform {\n  required_version = "1.5.7"\n}\n',
                  "b.tf": 'terraform {\n  required_version = "1.9.8"\n}\n'}, None,
                 id="two-differ"),
    pytest.param({"modules/x/main.tf": 'terraform {\n  required_version = "1.5.7"\n}\n'},
                 None, id="only-this-folder"),
])
def test_required_version_is_read_from_the_projects_code(tmp_path: Path, files: dict[str, str],
                                                         found: str | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert required_version(tmp_path) == found


def test_a_detected_version_is_a_hint(bin_dir: Path, tmp_path: Path) -> None:
    """As in Atlantis: a required_version range nothing at hand matches (with
    downloads off) leaves the default binary; an exact one must be there."""
    found = binaries(bin_dir, tmp_path, default_version="1.5.7")
    assert found.resolve("~> 1.9.0", detected=True).path == str(bin_dir / "terraform_1.9.8")
    assert found.resolve(">= 7", detected=True).path == str(bin_dir / "terraform1.5.7")
    assert found.resolve("not a version", detected=True).path == str(bin_dir / "terraform1.5.7")
    with pytest.raises(VersionUnavailable, match=r"terraform 1\.0\.99 is not available"):
        found.resolve("1.0.99", detected=True)
    with pytest.raises(VersionUnavailable, match=r"terraform >= 7 is not available"):
        found.resolve(">= 7")
