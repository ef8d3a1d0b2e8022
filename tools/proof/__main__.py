"""`make proof`: the platform's promises turned into figures anyone can re-run.

Starts every service as real processes (two per domain service) on a private
vhost and private databases, then: load (oversell probes, latency at 50 and
200 clients), abuse (authorization sweep, OpenAPI fuzz, hostile bodies, login
flood) and faults (kill -9, broker stop and connection loss, database restart
and terminated backends, a blackhole to the broker) under a steady stream of
bookings and orders; finally reconciles what clients were told with what
every service holds. Prints the table and writes reports/proof-<date>.md and
reports/proof-latest.md. Bounded to 15 minutes (a watchdog ends the run and
still writes the report). ``--quick`` skips the broker and database faults
(they disturb anyone else using this machine's RabbitMQ and PostgreSQL).

``--cluster`` (``make proof CLUSTER=1``) runs on ``make cluster`` instead (started
and stopped here if it is not running): the oversell probes, then the stream
under the cluster's faults (a broker node killed, one cut off, a PostgreSQL
failover; ``proof.cluster``), then the same reconciliation. Latency and abuse
are left to the single-broker run: they measure the code, not the topology.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import platform as host  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
import traceback  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
for sub in ("libs", "services", "tests", "tools"):
    if str(REPO / sub) not in sys.path:
        sys.path.insert(0, str(REPO / sub))

from proof import abuse, faults, load, reconcile  # noqa: E402
from proof.cluster import Cluster  # noqa: E402
from proof.platform import Platform  # noqa: E402
from proof.report import Row, now, render, write  # noqa: E402
from proof.traffic import Ledger, Stream, booking_days  # noqa: E402
from proof.world import ProofPlatform, booking_product, cafe, client_from, next_address  # noqa: E402

BUDGET_SECONDS = 15 * 60


class BudgetSpent(Exception):
    """Raised into the run by the watchdog: the report is still written."""


RESERVE_SECONDS = 150  # kept for draining, reconciliation and the report


class Proof:
    def __init__(self, args):
        self.args = args
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.health = {"load": [0, 0], "faults": [0, 0], "abuse": [0, 0]}
        self.health_failing: dict[str, Counter[str]] = {phase: Counter() for phase in self.health}
        self.health_phase = None
        self.timings: list[str] = []

    def left(self) -> float:
        return BUDGET_SECONDS - (time.monotonic() - self.started)

    def add(self, *args, **kwargs) -> None:
        self.rows.append(Row(*args, **kwargs))

    def section(self, name: str, func) -> None:
        """Run one part; a crash of the harness becomes a FAIL row, not a lost report."""
        print(f"proof: {name} ({self.left():.0f}s left)", flush=True)
        try:
            self.timed(name, func)
        except Exception as exc:
            traceback.print_exc()
            self.add(name, "section completed", 0, target="= 1", note=f"{type(exc).__name__}: {exc}"[:300])

    def timed(self, name: str, func, *args):
        """``func(*args)``, its time among the report's time per part."""
        started = time.monotonic()
        result = func(*args)
        self.timings.append(f"{name} {time.monotonic() - started:.0f}s")
        return result

    # --- background watchers ---------------------------------------------------------

    def watch(self, platform: Platform) -> None:
        """Every second: peak RSS of every process and PostgreSQL connections, and
        /healthz during load and abuse."""
        while True:
            platform.sample_rss()
            platform.sample_connections()
            if self.health_phase:
                counts = self.health[self.health_phase]
                failing = platform.unhealthy(timeout=5)
                counts[0] += 1
                counts[1] += not failing
                self.health_failing[self.health_phase].update(failing)
            eventlet.sleep(1)

    # --- phases -------------------------------------------------------------------------

    def seed(self, platform: Platform) -> None:
        self.pc = ProofPlatform(platform.url, platform.databases["accounts"], platform.dev_key_file)
        self.salon = self.pc.create_partner(category="salon")
        days = booking_days(14)
        # Room for every booking of the run: the stream and the latency phase share these slots.
        self.stream_product = booking_product(
            self.pc,
            self.salon,
            [{"date": d, "time": t, "capacity": 1_000_000} for d in days for t in ("10:00", "14:00")],
            name="Cut",
        )
        self.days = days
        self.store = cafe(self.pc)
        self.cafe_staff = self.pc.staff(self.store.partner, "member")
        customers = list(eventlet.GreenPool(20).imap(lambda _: self.pc.customer_session(), range(240)))
        # The stream's customers buy nothing else, so their rows reconcile exactly with what they were told.
        self.stream_customers, self.customers = customers[:40], customers[40:]

    def load(self, platform: Platform) -> None:
        self.oversell(platform)
        self.latency()

    def oversell(self, platform: Platform) -> None:
        capacities = [1, 5, 25]
        probe = booking_product(self.pc, self.salon, load.slots(capacities), name="Probe")
        shop = self.pc.create_partner(category="fashion")
        results = [
            load.slot_probe(probe, self.customers, c, s["date"], s["time"], platform.databases["reservations"])
            for c, s in zip(capacities, load.slots(capacities), strict=True)
        ]
        results += [load.stock_probe(self.pc, shop, self.customers, stock) for stock in (1, 10)]
        for r in results:
            self.add(
                "oversell",
                f"{r['what']}: sold past it",
                r["oversold"],
                r["buyers"],
                "= 0",
                f"accepted {r['accepted']}, stored {r['stored']}, 409 {r['refused_409']}, "
                f"503 {r['refused_503']}, other {r['other']}",
            )

    def latency(self) -> None:
        for clients in (50, 200):
            r = load.latency(self.stream_product, self.customers, clients, self.args.load_seconds, self.days)
            note = f"{r['requests']} requests, statuses {r['statuses']}"
            self.add("load", f"booking p50 at {clients} clients", round(r["p50_ms"], 1), r["requests"], note="ms")
            self.add("load", f"booking p99 at {clients} clients", round(r["p99_ms"], 1), r["requests"], note="ms")
            self.add("load", f"bookings/s at {clients} clients", round(r["throughput"], 1), r["requests"], note=note)
            self.add("load", f"5xx at {clients} clients", r["server_errors"], r["requests"], "= 0")

    def abuse(self, platform: Platform) -> None:
        sweep = self.timed("abuse: sweep", abuse.authorization_sweep, self.pc)
        self.pc._operator = None  # the sweep ends its callers' sessions last (DELETE /v1/sessions/current)
        self.add(
            "abuse",
            "authorization mismatches",
            sweep["mismatches"],
            sweep["cases"],
            "= 0",
            f"{sweep['routes']} routes x {sweep['callers']} callers (tests/authz table); "
            + "; ".join(sweep["examples"][:3]),
        )
        self.add("abuse", "5xx in the authorization sweep", sweep["server_errors"], sweep["cases"], "= 0")
        if self.left() < RESERVE_SECONDS + 120:
            self.add(
                "abuse", "fuzz, hostile bodies, login flood", None, target="= 0", note="not run: out of time budget"
            )
            return
        fuzz = self.timed("fuzz", abuse.fuzz, self.pc, self.args.fuzz_examples)
        self.sender_rows(
            fuzz,
            "fuzzed input (OpenAPI + hypothesis)",
            "fuzz",
            f"{fuzz['operations']} operations, {abuse.SENDERS} requests at a time; ",
        )
        bodies = self.timed("hostile", abuse.hostile, self.pc)
        self.sender_rows(
            bodies,
            "hostile bodies and path values",
            "hostile",
            f"{bodies['routes']} body routes x {len(abuse.hostile_bodies())} bodies (oversized, nested, NUL, "
            "non-UTF-8, truncated, form), and every id in a path as NUL, 400 characters, traversal, "
            "non-UTF-8; ",
            accepted="hostile bodies accepted (2xx)",
        )
        flood = self.timed("flood", abuse.login_flood, self.pc)
        self.add(
            "abuse",
            "login flood: 5xx other than 503, or no answer",
            flood["server_errors"],
            flood["attempts"],
            "= 0",
            f"statuses {flood['statuses']} in {flood['seconds']:.1f}s",
        )
        self.add(
            "abuse",
            "login flood: clean 503 (accounts busy hashing)",
            flood["refused_503"],
            flood["attempts"],
            note="beyond the hashes its memory budget holds, accounts answers 503 busy at once",
        )
        self.add(
            "abuse",
            "login flood: refused with 429",
            flood["rate_limited"],
            flood["attempts"],
            f">= {flood['attempts'] - 40}",
            "limit 20/60 s per address",
        )
        self.add(
            "abuse",
            "login flood: another address logs in",
            int(flood["bystander_login"][-1] == 201),
            1,
            "= 1",
            "statuses "
            + ", ".join(map(str, flood["bystander_login"]))
            + " (a 503 busy says retry after 1 s; the client does, as the console and apps do)",
        )
        self.add(
            "abuse",
            "login flood: /healthz not 200 while logins queue",
            flood["health_not_200"],
            flood["health_checks"],
            "= 0",
            "polled every 0.25 s throughout the flood",
        )

    def sender_rows(self, sent: dict, what: str, short: str, note: str, accepted: str | None = None) -> None:
        """The rows of a sender of fuzzed or hostile requests: no 5xx (``note`` then the
        statuses and first examples), none ``accepted`` when it is named, and no 4xx
        without the error shape."""
        answers = f"statuses {dict(sorted(sent.get('statuses', {}).items()))}; " + "; ".join(sent["examples"][:3])
        self.add("abuse", f"5xx on {what}", sent["server_errors"], sent["cases"], "= 0", note + answers)
        if accepted is not None:
            self.add("abuse", accepted, sent["accepted"], sent["cases"], "= 0")
        self.add("abuse", f"4xx without the error shape ({short})", sent["bad_error_body"], sent["cases"], "= 0")

    def fault_section(
        self, area: str, platform: Platform, steps, seconds_needed, run, words: tuple[str, str, str]
    ) -> None:
        """Each fault of ``steps`` while the time budget lasts (``seconds_needed(name, step)``
        beyond the reserve), run by ``run(platform, ledger, name, step)``; two rows per
        fault: requests not answered with 2xx/4xx/clean 503, and the recovery figure.
        ``words``: what the recovery is (in the note of the first row), the recovery
        row's name, and its note."""
        what, recovery, note = words
        for name, step in steps:
            if self.left() < RESERVE_SECONDS + seconds_needed(name, step):
                self.add(area, name, None, target="= 0", note="not run: out of time budget")
                continue
            print(f"proof:   fault: {name}", flush=True)
            result = run(platform, self.ledger, name, step)
            c = result.counts
            recovered = f"{result.recovery_seconds:.1f}s" if result.recovery_seconds is not None else "NOT recovered"
            self.add(
                area,
                f"{name}: 5xx other than 503, or no answer",
                c["other_5xx"] + c["no_answer"] + c["bad_error_body"],
                c["requests"],
                "= 0",
                f"ok {c['ok']}, clean 503 {c['refused_503']}; {what} {recovered}"
                + (f"; {result.detail}" if result.detail else "")
                + (f"; fault error: {result.error}" if result.error else ""),
            )
            self.add(
                area, f"{name}: {recovery}", result.recovery_seconds, target=f"<= {faults.RECOVERY_LIMIT}", note=note
            )

    def faults(self, platform: Platform, stream: Stream) -> None:
        if platform.cluster:
            return self.fault_section(
                "cluster",
                platform,
                faults.cluster_plan(platform),
                lambda name, fault: fault.hold + 30,
                faults.run_lasting,
                (
                    "bookings succeeded again after",
                    "seconds until bookings succeed again",
                    "from the fault's start to a booking and an order accepted after "
                    "the last failed request (none failed: the first ones after the start)",
                ),
            )
        steps = faults.plan(platform, kill_rounds=2)
        if self.args.quick:
            steps = [s for s in steps if s[0].startswith(("kill", "network"))]
            self.notes.append("--quick: the RabbitMQ and PostgreSQL faults were skipped.")
        self.fault_section(
            "faults",
            platform,
            steps,
            lambda name, action: faults.BLACKHOLE_SECONDS if "blackhole" in name else 20,
            faults.run_fault,
            ("recovered in", "recovery", "s from the fault's end to a booking and an order accepted and /healthz 200"),
        )

    def reconcile(self, platform: Platform) -> None:
        db = platform.databases
        e = reconcile.existence(db, self.ledger)
        self.add("reconcile", "accepted bookings/orders lost", e["lost"], e["accepted"], "= 0")
        self.add(
            "reconcile",
            "duplicated bookings/orders",
            e["duplicated"] + e["unexplained"],
            e["accepted"],
            "= 0",
            f"unresolved after retries: {e['unresolved']}",
        )
        m = reconcile.messages(db, self.ledger)
        self.add(
            "reconcile",
            "creation messages missing",
            m["missing"],
            m["objects"],
            "= 0",
            f"{m['messages']} messages about these objects",
        )
        self.add("reconcile", "duplicated messages (object, event, recipient)", m["duplicated"], m["messages"], "= 0")
        ledger = reconcile.ledger_entries(db, self.ledger)
        self.add(
            "reconcile",
            "ledger: completed orders without their sale",
            ledger["missing"],
            ledger["completed_orders"],
            "= 0",
        )
        self.add(
            "reconcile",
            "ledger: duplicated transactions, or sales of orders not completed",
            ledger["duplicated"] + ledger["unexpected"],
            ledger["transactions"],
            "= 0",
            f"duplicated {ledger['duplicated']}, sale without a completed order {ledger['unexpected']} "
            "(completed = what the orders database holds)",
        )
        self.add(
            "reconcile",
            "orders: completions the client was told of, not held",
            ledger["told_not_held"],
            len(self.ledger.completed_orders),
            "= 0",
        )
        self.add(
            "reconcile",
            "orders: completions told 503 (or unanswered) that happened",
            ledger["completed_unseen"],
            ledger["completed_orders"],
            note="the client stopped retrying (the run ended); the database "
            "holds the completion and the ledger its one sale, counted apart from duplicates",
        )
        self.add("reconcile", "ledger: unbalanced transactions", ledger["unbalanced"], ledger["transactions"], "= 0")
        h = reconcile.holds(db)
        self.add(
            "reconcile", "holds without an owner", h["orphaned"], h["held"], "= 0", ", ".join(h["orphan_examples"])
        )
        self.add("reconcile", "live bookings/orders without their hold", h["owners_without_hold"], h["held"], "= 0")
        o = reconcile.outboxes(db)
        if "error" in o:
            self.add("reconcile", "outbox backlog (pcops)", None, len(db), "= 0", o["error"])
        else:
            self.add(
                "reconcile",
                "outbox rows unpublished (events with subscribers)",
                o["subscribed_pending"],
                len(db),
                "= 0",
                f"pcops outbox backlog: {o['by_service'] or 'empty'}",
            )
            self.add(
                "reconcile",
                "outbox rows no subscriber will ever take",
                sum(o["unsubscribed"].values()),
                len(db),
                "= 0",
                (
                    "unroutable with mandatory, retried forever: "
                    + ", ".join(f"{k} x{v}" for k, v in sorted(o["unsubscribed"].items()))
                )
                if o["unsubscribed"]
                else "",
            )
        q = reconcile.queues(platform.ctl, platform.vhost)
        self.add(
            "reconcile",
            "messages left in event and RPC request queues",
            q["undrained"],
            q["queues"],
            "= 0",
            str(q["undrained_queues"]) if q["undrained"] else "",
        )
        self.add(
            "reconcile",
            "late RPC replies left in reply queues",
            q["late_replies"],
            q["queues"],
            note="answers that came after the caller's deadline (it had already said 503); "
            "they go when the reply queue expires",
        )
        reasons = (
            reconcile.dead_letter_reasons(platform.direct_amqp_uri, q["dead_letter_queues"])
            if q["dead_lettered"]
            else []
        )
        self.add("reconcile", "dead-lettered events", q["dead_lettered"], q["queues"], note="; ".join(reasons[:3]))

    def wait_drained(self, platform: Platform, timeout: float) -> None:
        """Outboxes published and queues empty, or ``timeout``: the reconciliation then says what is left."""
        started = time.monotonic()
        last: Any = None  # the last figures read, or why they could not be
        while time.monotonic() < started + timeout:
            try:
                last = (reconcile.outboxes(platform.databases), reconcile.queues(platform.ctl, platform.vhost))
                if last[0].get("subscribed_pending", 1) == 0 and last[1]["undrained"] == 0:
                    print(f"proof: drained in {time.monotonic() - started:.1f}s", flush=True)
                    return
            except Exception as exc:
                last = exc
            eventlet.sleep(2)
        print(f"proof: not drained after {timeout:.0f}s: {last}", flush=True)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> int:
        started_at = now()
        if self.args.skip:
            self.notes.append(f"parts left out of this run: {', '.join(self.args.skip)}")
        cluster = None
        watchdog = eventlet.spawn_after(BUDGET_SECONDS - 30, self.overtime)
        try:
            if self.args.cluster:
                print("proof: make cluster (tools/cluster.sh)", flush=True)
                cluster = Cluster.up()
                self.notes.append(
                    "on make cluster: 3 RabbitMQ nodes (quorum queues, deploy/'s policies), "
                    "PostgreSQL primary + synchronous standby; every instance lists the 3 nodes "
                    "(own order, one TCP proxy per node), databases by multi-host URL with "
                    "target_session_attrs=read-write; latency and abuse left to the single-broker run; "
                    "one reconciliation at the end covers every fault"
                )
            platform = Platform(instances_per_service=2, cluster=cluster)
            print(f"proof: starting the platform (vhost {platform.vhost}, logs {platform.log_dir})", flush=True)
            platform.start()
            self.watcher = eventlet.spawn(self.watch, platform)
            self.supervisor = eventlet.spawn(platform.supervise)
            self.add(
                "platform",
                "processes started",
                sum(len(i) for i in platform.instances.values()),
                note="2 per domain service, 1 gateway; broker reached through the proof's TCP proxy",
            )
            self.section("seed", lambda: self.seed(platform))
            print(f"proof: seeded ({self.left():.0f}s left)", flush=True)
            self.health_phase = "load"
            if "load" not in self.args.skip:
                self.section("load", lambda: (self.oversell if cluster else self.load)(platform))
            self.ledger = Ledger()
            stream = Stream(
                self.ledger,
                self.stream_product,
                self.store,
                self.stream_customers,
                client_from(platform.url, next_address(), self.cafe_staff.token),
                self.days,
            )
            stream.start()
            self.health_phase = "faults"
            if "faults" not in self.args.skip:
                self.section("faults", lambda: self.faults(platform, stream))
            else:
                eventlet.sleep(10)
            self.health_phase = "abuse"
            if "abuse" not in self.args.skip and not cluster:
                self.section("abuse", lambda: self.abuse(platform))
            self.health_phase = None
            stream.stop()
            platform.wait_healthy(timeout=60)
            stream.resolve()
            self.wait_drained(platform, timeout=min(90, max(10, self.left() - 60)))
            self.section("reconcile", lambda: self.reconcile(platform))
            requests_made = len(self.ledger.outcomes)
            statuses = Counter(o.status for o in self.ledger.outcomes)
            self.add(
                "stream",
                "bookings and orders accepted",
                len(self.ledger.reservations) + len(self.ledger.orders),
                requests_made,
                note=f"{len(self.ledger.reservations)} bookings, {len(self.ledger.orders)} orders "
                f"({len(self.ledger.completed_orders)} completed); statuses of all "
                f"{requests_made} requests: {dict(sorted(statuses.items()))}",
            )
            for phase, (polls, ok) in self.health.items():
                if not polls:
                    continue
                self.add(
                    "health",
                    f"/healthz answered 200 during {phase} (polled every second)",
                    ok,
                    polls,
                    "" if phase == "faults" else f">= {polls}",
                    (
                        "503 while a service is down, by design"
                        if phase == "faults"
                        else "200 only when every service answers its health RPC within 2 s"
                    )
                    + (
                        f"; failing polls named {dict(self.health_failing[phase])}"
                        if self.health_failing[phase]
                        else ""
                    ),
                )
            platform.sample_rss()
            for service, mib in platform.peak_rss_mib().items():
                self.add("memory", f"peak RSS {service}", round(mib, 1), note="MiB, the larger of its processes")
            self.add(
                "budget",
                "peak PostgreSQL connections to the proof's databases",
                platform.peak_connections,
                note=f"sampled every second; the pools may open {platform.pool_budget()}, the harness's "
                f"own look-ups come on top; the whole server peaked at "
                f"{platform.peak_server_connections} of its {platform.max_connections}, "
                f"{platform.ours_at_server_peak} of them the proof's",
            )
            unplanned = platform.unplanned_restarts()
            self.add(
                "faults",
                "processes that exited by themselves (restarted by the proof's supervisor)",
                sum(unplanned.values()),
                sum(len(i) for i in platform.instances.values()),
                note=", ".join(f"{s} {n}" for s, n in unplanned.items() if n) or "none",
            )
            self.notes.append(f"logs of every process: {platform.log_dir}")
            self.notes.append("time per part: " + ", ".join(self.timings))
        except Exception as exc:
            traceback.print_exc()
            self.add("proof", "run completed", 0, target="= 1", note=f"{type(exc).__name__}: {exc}"[:300])
        finally:
            watchdog.cancel()
            for thread in (getattr(self, "watcher", None), getattr(self, "supervisor", None)):
                if thread is not None:
                    thread.kill()
            if "platform" in locals():
                platform.stop()
                if not self.args.keep:
                    platform.cleanup()
            if cluster is not None:
                cluster.close()
        machine = f"{os.cpu_count()} CPUs, Python {host.python_version()}"
        name = "proof-cluster" if self.args.cluster else "proof"
        text = render(
            self.rows,
            started_at,
            time.monotonic() - self.started,
            REPO,
            machine,
            self.notes,
            "make proof CLUSTER=1" if self.args.cluster else "make proof",
        )
        print(text)
        path = write(text, REPO, started_at, name)
        print(f"proof: written to {path.relative_to(REPO)} and reports/{name}-latest.md")
        return 0 if all(r.verdict != "FAIL" for r in self.rows) else 1

    def overtime(self) -> None:
        print("proof: the 15-minute budget is nearly spent; stopping", file=sys.stderr, flush=True)
        self.notes.append("the watchdog ended the run at the 15-minute budget")
        eventlet.kill(main_thread, BudgetSpent("the 15-minute budget ran out"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the RabbitMQ and PostgreSQL faults")
    parser.add_argument(
        "--cluster", action="store_true", help="on make cluster, with the cluster's faults (make proof CLUSTER=1)"
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["load", "abuse", "faults"],
        help="leave parts out (while developing the harness; the report says so)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the vhost and databases for a look afterwards")
    parser.add_argument("--fuzz-examples", type=int, default=6, help="hypothesis examples per operation")
    parser.add_argument("--load-seconds", type=float, default=12, help="seconds per latency level")
    return Proof(parser.parse_args()).run()


main_thread = eventlet.getcurrent()

if __name__ == "__main__":
    sys.exit(main())
