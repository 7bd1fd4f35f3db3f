"""The freshness policy on synced_products, and the limits that keep a dead or hung run from
holding the queue: max runtime on both sync jobs, run monitoring on in the repo's instance."""

from datetime import timedelta

import dagster as dg
import pytest

from product_sync import names
from product_sync.definitions import defs
from product_sync.defs.operations.freshness import stale_after, sync_freshness_policy
from product_sync.defs.operations.interval import sensor_interval_s
from product_sync_tests.operations.instance_home import write_instance_yaml


def test_synced_products_is_stale_after_25_hours_by_default():
    node = defs.resolve_asset_graph().get(dg.AssetKey(names.SYNC_ASSET))
    policy = node.freshness_policy
    assert isinstance(policy, dg.FreshnessPolicy)
    assert policy.fail_window.to_timedelta() == timedelta(hours=25)
    assert policy.warn_window is None
    others = [names.SOURCE_ASSET, names.CATEGORY_ASSET, names.INDEX_ASSET]
    graph = defs.resolve_asset_graph()
    assert all(graph.get(dg.AssetKey(key)).freshness_policy is None for key in others)


def test_the_window_follows_the_environment():
    env = {names.STALE_AFTER_HOURS_ENV: "49.5"}
    assert stale_after(env) == timedelta(hours=49.5)
    assert sync_freshness_policy(env).fail_window.to_timedelta() == timedelta(hours=49.5)
    assert stale_after({names.STALE_AFTER_HOURS_ENV: "  "}) == timedelta(hours=25)


@pytest.mark.parametrize("bad", ["0", "-3", "soon", "inf", "nan"])
def test_a_bad_window_is_refused_clearly(bad):
    with pytest.raises(ValueError, match=names.STALE_AFTER_HOURS_ENV) as refused:
        stale_after({names.STALE_AFTER_HOURS_ENV: bad})
    assert repr(bad) in str(refused.value)


def test_both_sync_jobs_carry_the_queue_tag_and_a_max_runtime_far_above_a_run():
    for job_name, limit in [
        (names.SYNC_JOB, names.SYNC_MAX_RUNTIME_S),
        (names.SCALE_OUT_JOB, names.SCALE_OUT_MAX_RUNTIME_S),
    ]:
        tags = defs.resolve_job_def(job_name).tags
        assert tags[names.SYNC_QUEUE_TAG_KEY] == "catalog"
        # Dagster's run monitoring reads this tag; a 100k scale-out run takes < 20 min.
        assert int(tags[names.MAX_RUNTIME_TAG_KEY]) == limit >= 3 * 3600


def test_the_repo_instance_monitors_runs_and_evaluates_freshness(tmp_path):
    with dg.DagsterInstance.from_config(str(write_instance_yaml(tmp_path))) as instance:
        assert instance.run_monitoring_enabled
        assert 0 < instance.run_monitoring_start_timeout_seconds <= 300
        assert instance.run_monitoring_poll_interval_seconds <= 120
        assert instance.run_monitoring_max_resume_run_attempts == 0  # no resume locally
        assert instance.freshness_enabled
        assert isinstance(instance.run_launcher, dg.DefaultRunLauncher)


def test_the_operations_sensors_tick_every_30_s_unless_configured():
    sensors = {s.name: s for s in defs.sensors}
    for name in (
        names.CRASHED_RUN_SENSOR,
        names.RUN_FAILURE_ALERT_SENSOR,
        names.CHECK_FAILURE_ALERT_SENSOR,
    ):
        assert sensors[name].minimum_interval_seconds == 30, name
    assert sensor_interval_s({}) == 30
    assert sensor_interval_s({names.SENSOR_INTERVAL_ENV: " 5 "}) == 5


@pytest.mark.parametrize("bad", ["0", "-3", "2.5", "soon"])
def test_a_bad_sensor_interval_is_refused_clearly(bad):
    with pytest.raises(ValueError, match=names.SENSOR_INTERVAL_ENV) as refused:
        sensor_interval_s({names.SENSOR_INTERVAL_ENV: bad})
    assert repr(bad) in str(refused.value)
