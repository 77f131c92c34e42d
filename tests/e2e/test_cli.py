"""The blindrouter command line: `version`, `check --cbdir`, and `start` on bad configs.

`check` must accept the shipped node configs and refuse a faulty one with a non-zero exit
and a message naming the JSON path of each fault (Crossbar's config checker style, e.g.
`workers[0].realms[0].roles[0].permissions[0]: encountered unknown attribute 'foo'`).
`start` must refuse the same faults instead of running half-configured, and must honour
`--config FILE`.
"""

import json
import re
import signal
import subprocess
import time

import pytest

from wamp_helpers import (
    AUTHORIZATION_CONFIG_DIR,
    DEFAULT_CONFIG_DIR,
    RawWamp,
    free_port,
    load_config,
    port_accepts,
    tcp_endpoints,
    websocket_path,
)

PERMISSION = "workers[0].realms[0].roles[0].permissions[0]"
ENDPOINT = "workers[0].transports[0].endpoint"


def cli(binary, *args, timeout=10):
    return subprocess.run([str(binary), *map(str, args)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def output_of(proc):
    return proc.stdout + proc.stderr


def node_dir(tmp_path, config, name="node"):
    """A cbdir holding ``config`` (a dict, or a str written verbatim) as config.json."""
    cbdir = tmp_path / name
    cbdir.mkdir()
    text = config if isinstance(config, str) else json.dumps(config, indent=2)
    (cbdir / "config.json").write_text(text, encoding="utf-8")
    return cbdir


def default_config():
    return load_config(DEFAULT_CONFIG_DIR)

def config_on_free_ports():
    """The default node config with every TCP endpoint on a free port of its own."""
    config = default_config()
    for endpoint in tcp_endpoints(config):
        endpoint["port"] = free_port()
    return config


def first_permission(config):
    return config["workers"][0]["realms"][0]["roles"][0]["permissions"][0]


def first_endpoint(config):
    return config["workers"][0]["transports"][0]["endpoint"]


def check_fails(binary, tmp_path, config):
    proc = cli(binary, "check", "--cbdir", node_dir(tmp_path, config))
    assert proc.returncode != 0, f"check accepted a faulty config; output:\n{output_of(proc)}"
    text = output_of(proc)
    assert text.strip(), "check failed without saying why"
    return text


def test_version(router_binary):
    proc = cli(router_binary, "version")
    assert proc.returncode == 0, output_of(proc)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"no version line on stdout; stderr:\n{proc.stderr}"
    assert re.search(r"\d+\.\d+", lines[0]), f"no version number in {lines[0]!r}"


def test_unknown_command_fails(router_binary):
    proc = cli(router_binary, "no-such-command")
    assert proc.returncode != 0


@pytest.mark.parametrize("config_dir", [DEFAULT_CONFIG_DIR, AUTHORIZATION_CONFIG_DIR],
                         ids=["default", "authorization"])
def test_check_accepts_shipped_configs(router_binary, config_dir):
    proc = cli(router_binary, "check", "--cbdir", config_dir)
    assert proc.returncode == 0, output_of(proc)


def test_default_config_contract():
    """The shipped default node config is what the tests and users rely on."""
    config = default_config()
    assert config.get("version") == 2
    transport, path = websocket_path(config)
    assert transport["type"] == "web" and path == "ws"
    assert transport["endpoint"]["port"] == 8080
    realm = config["workers"][0]["realms"][0]
    assert realm["name"] == "realm1"
    role = realm["roles"][0]
    assert role["name"] == "anonymous"
    permission = role["permissions"][0]
    assert permission["uri"] == "" and permission["match"] == "prefix"
    assert all(permission["allow"].get(a) for a in ("call", "register", "publish", "subscribe"))


def test_unknown_permission_attribute_names_its_path(router_binary, tmp_path):
    config = default_config()
    first_permission(config)["foo"] = True
    text = check_fails(router_binary, tmp_path, config)
    assert PERMISSION in text, text
    assert "foo" in text, text


def test_unknown_endpoint_attribute_names_its_path(router_binary, tmp_path):
    config = default_config()
    first_endpoint(config)["bar"] = 1
    text = check_fails(router_binary, tmp_path, config)
    assert ENDPOINT in text, text
    assert "bar" in text, text


def test_unknown_top_level_attribute_is_named(router_binary, tmp_path):
    config = default_config()
    config["bogus_toplevel"] = {}
    text = check_fails(router_binary, tmp_path, config)
    assert "bogus_toplevel" in text, text


def test_every_fault_is_reported(router_binary, tmp_path):
    config = default_config()
    first_permission(config)["foo"] = True
    first_endpoint(config)["bar"] = 1
    text = check_fails(router_binary, tmp_path, config)
    assert PERMISSION in text and "foo" in text, text
    assert ENDPOINT in text and "bar" in text, text


@pytest.mark.parametrize("port", ["eighty", 70000, -1, 8080.5], ids=str)
def test_bad_port_is_refused(router_binary, tmp_path, port):
    config = default_config()
    first_endpoint(config)["port"] = port
    text = check_fails(router_binary, tmp_path, config)
    assert ENDPOINT in text, text


def test_permission_allow_not_boolean_is_refused(router_binary, tmp_path):
    config = default_config()
    first_permission(config)["allow"]["publish"] = "yes"
    text = check_fails(router_binary, tmp_path, config)
    assert PERMISSION in text, text


def test_unknown_match_policy_is_refused(router_binary, tmp_path):
    config = default_config()
    first_permission(config)["match"] = "fuzzy"
    text = check_fails(router_binary, tmp_path, config)
    assert PERMISSION in text, text


def test_unknown_worker_type_is_refused(router_binary, tmp_path):
    config = default_config()
    config["workers"][0]["type"] = "no-such-worker"
    text = check_fails(router_binary, tmp_path, config)
    assert "workers[0]" in text, text


def test_wrong_config_version_is_refused(router_binary, tmp_path):
    config = default_config()
    config["version"] = 1
    check_fails(router_binary, tmp_path, config)


def test_malformed_json_is_refused(router_binary, tmp_path):
    check_fails(router_binary, tmp_path, '{"version": 2, "workers": [')


def test_missing_config_file_is_refused(router_binary, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli(router_binary, "check", "--cbdir", empty)
    assert proc.returncode != 0
    assert output_of(proc).strip()


def test_start_refuses_faulty_config(router_binary, tmp_path):
    config = default_config()
    first_permission(config)["foo"] = True
    port = free_port()
    for endpoint in tcp_endpoints(config):
        endpoint["port"] = port
    cbdir = node_dir(tmp_path, config)
    proc = subprocess.Popen([str(router_binary), "start", "--cbdir", str(cbdir)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=5)
        raise AssertionError("start kept running on a faulty config")
    assert proc.returncode != 0
    assert PERMISSION in out + err and "foo" in out + err, out + err
    assert not port_accepts(port)


def test_start_with_config_option(router_binary, tmp_path):
    """--config FILE is read instead of CBDIR/config.json (here: a broken one)."""
    config = config_on_free_ports()
    transport, path = websocket_path(config)
    port = transport["endpoint"]["port"]
    cbdir = node_dir(tmp_path, "this is not json")
    other = tmp_path / "elsewhere.json"
    other.write_text(json.dumps(config), encoding="utf-8")
    stderr_path = tmp_path / "stderr.log"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([str(router_binary), "start", "--cbdir", str(cbdir),
                                 "--config", str(other), "--loglevel", "info"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not port_accepts(port):
            assert proc.poll() is None, \
                f"router exited with {proc.returncode}: {stderr_path.read_text(errors='replace')}"
            assert time.monotonic() < deadline, "router did not listen within 10 s"
            time.sleep(0.05)
        raw = RawWamp(f"ws://127.0.0.1:{port}/{path}")
        raw.hello()
        raw.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            raise AssertionError("router did not exit within 5 s of SIGTERM")
    assert proc.returncode == 0, stderr_path.read_text(errors="replace")


@pytest.mark.parametrize("level", ["none", "critical", "error", "warn", "info", "debug",
                                   "trace"])
def test_every_loglevel_is_accepted(router_factory, level):
    router = router_factory(loglevel=level)
    raw = RawWamp(router.url)
    raw.hello()
    raw.close()
    if level == "none":
        # Nothing at all, not even a start-up banner.
        router.stop()
        assert router.log() == ""


def test_unknown_loglevel_is_refused(router_binary, tmp_path):
    config = config_on_free_ports()
    cbdir = node_dir(tmp_path, config)
    try:
        proc = cli(router_binary, "start", "--cbdir", cbdir, "--loglevel", "chatty", timeout=5)
    except subprocess.TimeoutExpired:
        raise AssertionError("start ran with an unknown --loglevel") from None
    assert proc.returncode != 0
    assert "chatty" in output_of(proc) or "loglevel" in output_of(proc), output_of(proc)
