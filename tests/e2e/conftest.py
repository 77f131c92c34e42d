"""pytest wiring for the blindrouter end-to-end tests.

Run from the repository root with Debian's interpreter (it carries python3-autobahn):

    /usr/bin/python3 -m pytest -q tests/e2e --router build/blindrouter

``--router PATH`` is the blindrouter binary (default ``build/blindrouter`` under the
repository root). Every test that needs a router gets its own process on a copy of a
node directory with free ports; on teardown the router is sent SIGTERM and must exit 0
within 5 s, so a crash anywhere in a test shows up as an error of that test.

``--split N`` (issue 19) runs every router of a test as N clustered nodes over 3 NATS
servers (tests/e2e/split_rig.py): each client of a test lands on the next node. Tests
marked ``single_node(reason)`` are skipped then; README "Checks that stay single-node"
lists them (tests/single_node_list.py keeps the two equal).
"""

import os
import signal
from pathlib import Path

import pytest

from wamp_helpers import (
    AUTHORIZATION_CONFIG_DIR,
    DEFAULT_CONFIG_DIR,
    REPO_ROOT,
    SHUTDOWN_TIMEOUT,
    start_router,
)
from split_rig import NatsCluster, start_split_router


def pytest_addoption(parser):
    parser.addoption(
        "--router",
        action="store",
        default="build/blindrouter",
        help="path of the blindrouter binary (relative paths: to the current directory "
             "if it exists there, else to the repository root; default build/blindrouter)",
    )
    parser.addoption(
        "--split",
        action="store",
        type=int,
        default=0,
        metavar="N",
        help="split mode: every router is a cluster of N nodes over 3 NATS servers started by "
             "scripts/cluster-up, successive clients on successive nodes (default 0: one node)",
    )


def pytest_configure(config):
    # txaio (under Autobahn) logs through a deprecated logging alias on every non-normal
    # session close; that noise says nothing about the router.
    config.addinivalue_line(
        "filterwarnings", "ignore:The 'warn' method is deprecated:DeprecationWarning")
    config.addinivalue_line(
        "markers", "single_node(reason): not meaningful on a cluster; skipped with --split "
                   "(README, \"Checks that stay single-node\")")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--split"):
        return
    for item in items:
        marker = item.get_closest_marker("single_node")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"single node: {marker.args[0]}"))


@pytest.fixture(scope="session")
def split_nats(request, tmp_path_factory):
    """The NATS cluster of a split-mode session (None without --split)."""
    if not request.config.getoption("--split"):
        yield None
        return
    nats = NatsCluster(tmp_path_factory.mktemp("split-nats"))
    try:
        yield nats
    finally:
        nats.stop()


@pytest.fixture(scope="session")
def router_binary(request):
    """Absolute path of the router binary; the test fails (not skips) when it is missing."""
    given = Path(request.config.getoption("--router"))
    if given.is_absolute():
        path = given
    elif given.exists():
        path = given.resolve()
    else:
        path = (REPO_ROOT / given).resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"router binary {path} not found or not executable (--router)")
    return path


@pytest.fixture
def router_factory(router_binary, tmp_path, split_nats, request):
    """Start routers on demand: ``router_factory(config_dir=..., mutate=..., loglevel=...)``.

    Each one is stopped with SIGTERM at teardown and must exit 0 within 5 s.
    """
    routers = []

    def start(config_dir=DEFAULT_CONFIG_DIR, mutate=None, loglevel="debug", extra_args=()):
        work_dir = tmp_path / f"router{len(routers)}"
        if split_nats is not None:
            router = start_split_router(router_binary, split_nats if not routers else None,
                                        request.config.getoption("--split"), config_dir, work_dir,
                                        mutate=mutate, loglevel=loglevel, extra_args=extra_args)
        else:
            router = start_router(router_binary, config_dir, work_dir, mutate=mutate,
                                  loglevel=loglevel, extra_args=extra_args)
        routers.append(router)
        return router

    yield start

    problems = []
    for router in routers:
        was_running = router.is_alive()
        try:
            code = router.stop(signal.SIGTERM, SHUTDOWN_TIMEOUT)
        except AssertionError as e:
            problems.append(str(e))
            continue
        if code != 0:
            when = "on SIGTERM at teardown" if was_running else "before teardown"
            problems.append(f"router exited with code {code} {when}; stderr tail:\n"
                            f"{router.log_tail()}")
    if split_nats is not None and routers:
        split_nats.purge_state_streams()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def router(router_factory):
    """A router on the default node config (realm1, anonymous may do everything)."""
    return router_factory()


@pytest.fixture
def auth_router(router_factory):
    """A router on crossbar-config/authorization (anonymous with restricted permissions)."""
    return router_factory(AUTHORIZATION_CONFIG_DIR)
