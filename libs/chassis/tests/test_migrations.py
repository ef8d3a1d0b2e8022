"""Migrations: applied once, in order, even when several processes start together."""

import threading

import psycopg

from chassis.migrations import apply_migrations, migration_files


def test_two_processes_starting_at_once_apply_each_migration_once(make_database, probe_path):
    url = make_database(probe_path, migrate=False)
    applied_by_each = []
    barrier = threading.Barrier(4)

    def start_up():
        barrier.wait()
        applied_by_each.append(apply_migrations(url, probe_path))

    threads = [threading.Thread(target=start_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    versions = [version for version, _ in migration_files(probe_path)]
    assert sorted(v for applied in applied_by_each for v in applied) == sorted(versions)
    with psycopg.connect(url) as conn:
        recorded = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert recorded == sorted(versions)
    assert apply_migrations(url, probe_path) == []  # nothing left to do
