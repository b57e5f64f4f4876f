"""Schema-driven fuzzing of the JSON API: does any input make a server error, or an answer the
OpenAPI document does not describe?

This script:

1. applies the migrations to a fresh SQLite file (``flask db upgrade``);
2. seeds one business (slug ``fuzz-swim-school``) with two staff members, two services, an owner
   API key and a few bookings;
3. serves the app with gunicorn (2 sync workers) with every rate limit out of reach;
4. runs schemathesis (``st run``, a dev-only requirement: ``pip install -r requirements-dev.txt``)
   over ``/api/openapi.json`` with all its checks, positive and negative data, on the public
   endpoints (the business's slug filled in) and the owner endpoints (with the API key);
5. prints a table per endpoint: cases run, server errors (5xx) and schema-conformance failures
   (any other check), from schemathesis's JSON run report and NDJSON event stream.

It exits with status 1 when there is a server error or a conformance failure.

    .venv/bin/python benchmarks/fuzz_api.py                       # 200 cases per operation and mode
    .venv/bin/python benchmarks/fuzz_api.py --max-examples 50 --keep-report /tmp/fuzz
    .venv/bin/python benchmarks/fuzz_api.py --max-time 600          # repeat fuzzing for 10 minutes
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    app_context, app_env, gunicorn, machine, markdown_table, migrate, sign_up_owner, sqlite_database,
)

SLUG = "fuzz-swim-school"
TIMEZONE = "Europe/London"


def seed(database_url: str) -> str:
    """Create the fuzzed business in ``database_url`` (already migrated); returns an owner API key."""
    from app.extensions import db
    from app.models import StaffMember
    from app.services import api_keys, booking_service, business_service
    from app.services.booking_service import BookingRequest

    with app_context(database_url) as app:
        app.config["SERVER_NAME"] = None
        owner = sign_up_owner("Fuzz Swim School", TIMEZONE)
        business = owner.business
        business_service.update_settings(business, requires_approval=False, min_advance_booking_hours=0, max_advance_booking_days=60)
        sam = StaffMember(business=business, display_name="Sam")
        db.session.add(sam)
        db.session.commit()
        business_service.set_weekly_hours(sam, {d: [(time(8), time(20))] for d in range(7)})
        lesson = business_service.save_service(business, None, name="Private lesson", duration_minutes=45, price="30.00", capacity=1,
                                              slot_interval_minutes=60)
        business_service.save_service(business, None, name="Group class", duration_minutes=60, price="12.50", capacity=6)
        _row, token = api_keys.create_key(business, owner, "fuzz")
        tomorrow = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=2)
        for hour in (9, 10, 11):
            start = datetime.combine(tomorrow, time(hour), tzinfo=ZoneInfo(TIMEZONE)).astimezone(timezone.utc)
            booking_service.create_booking(business, BookingRequest(
                service_id=lesson.id, start=start, client_name=f"Client {hour}", client_email=f"c{hour}@example.com",
                client_phone=None, client_timezone=TIMEZONE, notes="", staff_id=sam.id,
            ))
    return token


def summarise(report_dir: Path) -> tuple[Counter, dict[str, Counter], list[str]]:
    """What schemathesis reported: totals (``cases``, ``server_errors``, ``conformance``: test
    cases with a failure of each kind, from the JSON run report), per operation label the cases
    run (NDJSON events: each finished scenario's recorded cases) and failures (the report's
    unique failure groups, by operation), and one line per failure group."""
    report = json.loads(next(report_dir.glob("json-*.json")).read_text())
    per_operation: dict[str, Counter] = defaultdict(Counter)
    for line in next(report_dir.glob("ndjson-*.ndjson")).read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished and finished.get("recorder"):
            recorder = finished["recorder"]
            per_operation[recorder.get("label") or "?"]["cases"] += len(recorder.get("cases") or {})
    totals = Counter(cases=report["test_cases"]["generated"])
    lines = []
    for group in report["failures"]:
        kind = "server_errors" if "server error" in f"{group['type']} {group['title']}".lower() else "conformance"
        totals[kind] += group["count"]
        for label in group["operations"]:
            per_operation[label][kind] += 1
        lines.append(f"{group['code']} {group['title']} x{group['count']}: {', '.join(group['operations'])}")
    for error in report["errors"]:
        totals["conformance"] += error["count"]
        lines.append(f"error: {error['title']} x{error['count']}")
    return totals, per_operation, lines


def run(max_examples: int, workers: int, seed_value: int | None, report_dir: Path, max_time: int | None = None) -> int:
    with sqlite_database("flowkey-fuzz-") as url:
        env = app_env(
            url, LOGIN_RATE_LIMIT="1000000 per minute", SIGNUP_RATE_LIMIT="1000000 per minute",
            PASSWORD_RESET_RATE_LIMIT="1000000 per minute", API_RATE_LIMIT="1000000 per minute",
        )
        migrate(env)
        token = seed(url)
        config = report_dir / "schemathesis.toml"
        # Public endpoints get the real slug (a random one is only ever a 404).
        # Business rules no JSON Schema can state (a time in the future, a known zone, a contact,
        # an interval that ends after it starts) answer schema-valid data with a documented 422.
        config.write_text(
            f'[parameters]\n"path.slug" = "{SLUG}"\n\n'
            "[checks.positive_data_acceptance]\nexpected-statuses = [200, 201, 204, 401, 403, 404, 409, 422, 429]\n"
        )
        with gunicorn(env, workers=2, log=report_dir / "gunicorn.log") as base:
            command = [
                str(Path(sys.executable).parent / "st"), "--config-file", str(config), "run", f"{base}/api/openapi.json",
                "--url", base, "--checks", "all", "--mode", "all",
                # DELETE /api/services/{id} deactivates (documented: bookings keep the service), so
                # the service is still there afterwards, which use_after_free reads as "deleted but found".
                "--exclude-checks", "use_after_free", "--max-examples", str(max_examples),
                "--workers", str(workers), "--header", f"Authorization: Bearer {token}",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--report", "ndjson,json", "--report-dir", str(report_dir), "--no-color",
                "--suppress-health-check", "all",
            ]
            if seed_value is not None:
                command += ["--seed", str(seed_value)]
            if max_time is not None:  # fuzzing and stateful phases repeat until the budget is spent
                command += ["--max-time", str(max_time)]
            with open(report_dir / "schemathesis.log", "w") as log:
                code = subprocess.run(command, cwd=report_dir, stdout=log, stderr=subprocess.STDOUT).returncode
    if not any(report_dir.glob("json-*.json")):
        print(f"schemathesis wrote no report (exit {code}); see {report_dir / 'schemathesis.log'}")
        return 1
    total, stats, lines = summarise(report_dir)
    rows = [[label, str(c["cases"]), str(c["server_errors"]), str(c["conformance"])] for label, c in sorted(stats.items())]
    rows.append(["total (test cases)", str(total["cases"]), str(total["server_errors"]), str(total["conformance"])])
    print(f"Schemathesis over /api/openapi.json, all checks, positive + negative data, {max_examples} max examples; {machine()}")
    print(markdown_table(["operation", "cases", "server errors", "conformance failures"], rows))
    for line in lines:
        print("  " + line)
    return 1 if total["server_errors"] or total["conformance"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=200, help="cases per operation and phase (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="schemathesis workers (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis's random seed (default: random)")
    parser.add_argument("--max-time", type=int, default=None, help="seconds for the whole schemathesis run; fuzzing repeats until they are spent")
    parser.add_argument("--keep-report", type=Path, default=None, help="write the reports and logs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.keep_report is not None:
        args.keep_report.mkdir(parents=True, exist_ok=True)
        return run(args.max_examples, args.workers, args.seed, args.keep_report, args.max_time)
    with tempfile.TemporaryDirectory(prefix="flowkey-fuzz-report-") as tmp:
        return run(args.max_examples, args.workers, args.seed, Path(tmp), args.max_time)


if __name__ == "__main__":
    sys.exit(main())
