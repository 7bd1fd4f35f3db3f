"""The words of each alert: pure functions over the facts the sensors gather."""

from product_sync.core import alerts as words

UI = "http://dagster.example:3000/"


def test_run_failure_text_names_the_job_links_the_run_and_says_what_failed():
    run = words.FailedRun(
        job="sync_job",
        run_id="abc-123",
        message='Execution of run for "sync_job" failed. Steps failed: ["synced_products"].',
        steps=[
            words.StepFailure(
                "synced_products", "AuthError: POST /admin/products/batch -> 401: Unauthorized"
            )
        ],
        counts={"created": 3, "updated": 0, "errors": 2},
    )
    text = words.run_failure_text(run, UI)
    lines = text.splitlines()
    assert lines[0] == "product_sync: a sync_job run failed"
    assert lines[1] == "Run: http://dagster.example:3000/runs/abc-123"
    assert 'What failed: Execution of run for "sync_job" failed.' in text
    assert "- step synced_products: AuthError: POST /admin/products/batch -> 401" in text
    assert lines[-1] == "Counts: failed steps 1, created 3, updated 0, errors 2"


def test_run_failure_text_lists_targeted_ids_and_caps_long_lists():
    run = words.FailedRun(
        job="sync_job",
        run_id="r",
        message="boom",
        steps=[words.StepFailure(f"s{i}", "x") for i in range(7)],
        product_ids=list(range(1, 9)),
    )
    text = words.run_failure_text(run, UI)
    assert "Targeted product ids: 1, 2, 3, 4, 5 (+3 more)" in text
    assert text.count("- step s") == words.MAX_LISTED
    assert "- and 2 more failed steps" in text
    assert text.endswith("Counts: failed steps 7")


def test_a_run_without_message_or_step_errors_still_reads():
    text = words.run_failure_text(
        words.FailedRun("sync_job", "r", "", [words.StepFailure("a", "")]), UI
    )
    assert "What failed: the run (no message)" in text
    assert "- step a: no error message" in text


def test_check_failure_text_lists_each_check_with_numbers_and_offenders():
    checks = [
        words.FailedCheck(
            "synced_products", "prices_match_source", {"count": 2}, ["dummyjson:4", "dummyjson:9"]
        ),
        words.FailedCheck("synced_products", "no_duplicate_handles", {"count": 1}),
    ]
    text = words.check_failure_text("sync_job", "run-9", checks, "http://127.0.0.1:3000")
    assert text.splitlines()[0] == (
        "product_sync: 2 blocking checks failed in a sync_job run;"
        " downstream assets were not materialized"
    )
    assert "Run: http://127.0.0.1:3000/runs/run-9" in text
    assert "- synced_products / prices_match_source (count 2)" in text
    assert "  e.g. dummyjson:4, dummyjson:9" in text
    assert "- synced_products / no_duplicate_handles (count 1)" in text


def test_long_errors_are_cut_and_messages_capped():
    huge = "x" * 10_000
    assert len(words.first_line(huge)) == words.MAX_ERROR_CHARS
    assert words.first_line("\n\n  second line first  \nthird") == "second line first"
    run = words.FailedRun("sync_job", "r", "m", [words.StepFailure(str(i), huge) for i in range(5)])
    assert len(words.run_failure_text(run, UI)) <= words.MAX_TEXT_CHARS


def test_sync_counts_keep_only_report_numbers_and_add_up_ranges():
    one = words.sync_counts({"created": 2, "errors": 1, "duration_s": 3.5, "dry_run": True})
    two = words.sync_counts({"created": 5, "archived": 1, "updated": "n/a"})
    assert one == {"created": 2, "errors": 1}
    assert words.add_counts([one, two]) == {"created": 7, "archived": 1, "errors": 1}


def test_redact_replaces_every_secret_value_and_ignores_short_or_missing_ones():
    text = "key sk_live_abcdef123 at https://hooks.example/T1/B2/tok3n, again sk_live_abcdef123"
    redacted = words.redact(
        text, ["sk_live_abcdef123", "https://hooks.example/T1/B2/tok3n", None, "a"]
    )
    assert "sk_live" not in redacted and "tok3n" not in redacted
    assert redacted.count(words.REDACTED) == 3
    assert words.redact("a b a", ["a"]) == "a b a"


def test_crashed_worker_text_says_which_pid_and_why_the_run_was_failed():
    text = words.crashed_worker_text("sync_job", 4242)
    assert "sync_job" in text and "pid 4242" in text
    assert "next queued sync can start" in text


def test_payload_is_slack_shaped():
    assert words.payload("hi") == {"text": "hi"}
