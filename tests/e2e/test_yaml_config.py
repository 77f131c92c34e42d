"""YAML node configurations: Crossbar's lookup order (config.yaml before config.json)
and a router served from YAML exactly as from the same JSON."""
import signal
import subprocess
import time

import yaml

from test_cli import cli, config_on_free_ports, default_config, output_of
from wamp_helpers import RawWamp, port_accepts, websocket_path


def yaml_node_dir(tmp_path, config):
    cbdir = tmp_path / "node"
    cbdir.mkdir()
    (cbdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    # Crossbar reads config.yaml first; a broken config.json beside it proves the order.
    (cbdir / "config.json").write_text("this is not json", encoding="utf-8")
    return cbdir


def test_check_reads_config_yaml_first(router_binary, tmp_path):
    proc = cli(router_binary, "check", "--cbdir", yaml_node_dir(tmp_path, default_config()))
    assert proc.returncode == 0, output_of(proc)
    assert "Ok, node configuration looks good!" in proc.stdout


def test_yaml_fault_names_the_file_and_line(router_binary, tmp_path):
    cbdir = tmp_path / "node"
    cbdir.mkdir()
    (cbdir / "config.yaml").write_text("version: 2\nworkers: []\nversion: 2\n", encoding="utf-8")
    proc = cli(router_binary, "check", "--cbdir", cbdir)
    assert proc.returncode != 0
    assert "config.yaml" in output_of(proc)
    assert "configuration file does not seem to be proper YAML (duplicate key 'version' at line 3 column 1)" \
        in output_of(proc), output_of(proc)


def test_start_serves_a_yaml_node(router_binary, tmp_path):
    config = config_on_free_ports()
    transport, path = websocket_path(config)
    port = transport["endpoint"]["port"]
    stderr_path = tmp_path / "stderr.log"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([str(router_binary), "start", "--cbdir", str(yaml_node_dir(tmp_path, config))],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not port_accepts(port):
            assert proc.poll() is None, stderr_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "router did not listen within 10 s"
            time.sleep(0.05)
        raw = RawWamp(f"ws://127.0.0.1:{port}/{path}")
        raw.hello()
        raw.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
    assert proc.returncode == 0, stderr_path.read_text(errors="replace")
