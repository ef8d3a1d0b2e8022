"""Settlement SQL. Every query that reads partner data filters by partner_id.
Functions take a unit of work (``uow.execute / fetch_one / fetch_all``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from psycopg.types.json import Jsonb

from . import domain, errors
from .domain import Movement

# --- partners ------------------------------------------------------------------


def remember_category(uow, partner_id: str, category: str, as_of: datetime) -> None:
    """The newest partner.* event wins, whatever order they arrive in."""
    uow.execute(
        """INSERT INTO partner_profiles (partner_id, category, category_as_of) VALUES (%s, %s, %s)
           ON CONFLICT (partner_id) DO UPDATE SET category = EXCLUDED.category,
                                                  category_as_of = EXCLUDED.category_as_of
           WHERE partner_profiles.category_as_of IS NULL OR partner_profiles.category_as_of < EXCLUDED.category_as_of""",
        (partner_id, category, as_of),
    )


def set_payout_schedule(uow, partner_id: str, schedule: str, delay_days: int) -> dict | None:
    """None when settlement has not heard of the partner (no partner.* event yet)."""
    return uow.fetch_one(
        """UPDATE partner_profiles SET payout_schedule = %s, payout_delay_days = %s WHERE partner_id = %s
           RETURNING payout_schedule AS schedule, payout_delay_days AS delay_days""",
        (schedule, delay_days, partner_id),
    )


def payout_schedule(uow, partner_id: str) -> dict:
    row = uow.fetch_one(
        "SELECT payout_schedule AS schedule, payout_delay_days AS delay_days "
        "FROM partner_profiles WHERE partner_id = %s",
        (partner_id,),
    )
    return row or {"schedule": domain.WEEKLY, "delay_days": 3}


# --- commission rates ----------------------------------------------------------


def add_rate(uow, scope: str, subject: str, rate_bps: int, effective_from: date) -> dict:
    return uow.fetch_one(
        """INSERT INTO commission_rates (scope, subject, rate_bps, effective_from) VALUES (%s, %s, %s, %s)
           RETURNING id, scope, subject, rate_bps, effective_from""",
        (scope, subject, rate_bps, effective_from),
    )


def rate_on(uow, partner_id: str, on: date) -> int:
    """The partner's override in force on ``on``, else its category's, else the default."""
    row = uow.fetch_one(
        """SELECT rate_bps FROM commission_rates r
           WHERE effective_from <= %(on)s AND (
                 (scope = 'partner' AND subject = %(partner)s)
              OR (scope = 'category' AND subject = (SELECT category FROM partner_profiles WHERE partner_id = %(partner)s))
              OR (scope = 'category' AND subject = 'default'))
           ORDER BY CASE WHEN scope = 'partner' THEN 0 WHEN subject = 'default' THEN 2 ELSE 1 END,
                    effective_from DESC, id DESC
           LIMIT 1""",
        {"on": on, "partner": partner_id},
    )
    return row["rate_bps"] if row else 0


def list_rates(uow) -> list[dict]:
    return uow.fetch_all(
        "SELECT id, scope, subject, rate_bps, effective_from FROM commission_rates "
        "ORDER BY scope, subject, effective_from, id"
    )


# --- the ledger ----------------------------------------------------------------


def lock_source(uow, partner_id: str, source_ref: str) -> None:
    """Serialise the handlers of one order or reservation (cumulative refunds)."""
    uow.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (f"{partner_id}|{source_ref}",))


def insert_transaction(
    uow,
    partner_id: str,
    key: str,
    kind: str,
    amount: int,
    *,
    source: str,
    source_ref: str,
    event_id,
    occurred_at: datetime,
    commission_bps: int | None = None,
    customer_ref: str | None = None,
) -> int | None:
    """One balanced ledger transaction; None when its key is already there (a duplicate)."""
    row = uow.fetch_one(
        """INSERT INTO ledger_transactions (partner_id, txn_key, kind, source, source_ref, source_event_id,
                                            business_date, occurred_at, commission_bps, customer_ref)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (partner_id, txn_key) DO NOTHING RETURNING id""",
        (
            partner_id,
            key,
            kind,
            source,
            source_ref,
            event_id,
            domain.business_date(occurred_at),
            occurred_at,
            commission_bps,
            customer_ref,
        ),
    )
    if row is None:
        return None
    entries = domain.postings(kind, amount)
    with uow.conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ledger_entries (transaction_id, partner_id, account, debit, credit) VALUES (%s, %s, %s, %s, %s)",
            [(row["id"], partner_id, e.account, e.debit, e.credit) for e in entries],
        )
    return row["id"]


# One statement for a movement, its entries, its product split and its
# commission with entries: every row or none (the key decides), in one round trip.
RECORD_MOVEMENT = """
WITH txn AS (
    INSERT INTO ledger_transactions (partner_id, txn_key, kind, source, source_ref, source_event_id,
                                     business_date, occurred_at, commission_bps, customer_ref, discount_amount,
                                     coupon_id)
    VALUES (%(partner)s, %(key)s, %(kind)s, %(source)s, %(ref)s, %(event_id)s, %(day)s, %(at)s, %(bps)s, %(customer)s,
            %(discount)s, %(coupon_id)s)
    ON CONFLICT (partner_id, txn_key) DO NOTHING RETURNING id),
entries AS (
    INSERT INTO ledger_entries (transaction_id, partner_id, account, debit, credit)
    SELECT txn.id, %(partner)s, e.account, e.debit, e.credit
    FROM txn, jsonb_to_recordset(%(entries)s) AS e(account text, debit bigint, credit bigint)),
facts AS (
    INSERT INTO sales_facts (transaction_id, partner_id, business_date, kind, product_id, product_name, amount)
    SELECT txn.id, %(partner)s, %(day)s, %(kind)s, f.product_id, f.product_name, f.amount
    FROM txn, jsonb_to_recordset(%(facts)s) AS f(product_id text, product_name text, amount bigint)),
commission AS (
    INSERT INTO ledger_transactions (partner_id, txn_key, kind, source, source_ref, source_event_id,
                                     business_date, occurred_at, commission_bps, customer_ref)
    SELECT %(partner)s, %(commission_key)s, %(commission_kind)s, %(source)s, %(ref)s, %(event_id)s, %(day)s, %(at)s,
           %(bps)s, %(customer)s
    FROM txn WHERE jsonb_array_length(%(commission_entries)s) > 0
    ON CONFLICT (partner_id, txn_key) DO NOTHING RETURNING id),
commission_entries AS (
    INSERT INTO ledger_entries (transaction_id, partner_id, account, debit, credit)
    SELECT commission.id, %(partner)s, e.account, e.debit, e.credit
    FROM commission, jsonb_to_recordset(%(commission_entries)s) AS e(account text, debit bigint, credit bigint))
SELECT (SELECT id FROM txn) AS id
"""


def _entries_json(kind: str, amount: int) -> Jsonb:
    return Jsonb(
        [{"account": e.account, "debit": e.debit, "credit": e.credit} for e in domain.postings(kind, amount)]
        if amount > 0
        else []
    )


def record_movements(uow, partner_id: str, movements: list[Movement], event, customer_ref: str | None) -> None:
    """Every movement one event (its ``event_id`` and ``occurred_at``) makes
    (domain.movements_for), in its order."""
    for movement in movements:
        record_movement(
            uow, partner_id, movement, event_id=event.event_id, occurred_at=event.occurred_at, customer_ref=customer_ref
        )


def record_movement(
    uow, partner_id: str, movement: Movement, *, event_id, occurred_at: datetime, customer_ref: str | None
) -> bool:
    """A sale, fee or refund and its commission (R-STL-1, R-STL-2); False when
    it was recorded before (its key exists)."""
    on = domain.business_date(occurred_at)
    if movement.kind == domain.REFUND:
        lock_source(uow, partner_id, movement.source_ref)  # cumulative refunds of one order, one at a time
        commission, bps = _commission_reversal(uow, partner_id, movement, on)
    else:
        bps = rate_on(uow, partner_id, on)
        commission = domain.commission_for(movement.amount, bps)
    row = uow.fetch_one(
        RECORD_MOVEMENT,
        {
            "partner": partner_id,
            "key": movement.key,
            "kind": movement.kind,
            "source": movement.source,
            "ref": movement.source_ref,
            "event_id": event_id,
            "day": on,
            "at": occurred_at,
            "bps": bps,
            "customer": customer_ref,
            "entries": _entries_json(movement.kind, movement.amount),
            "discount": movement.discount,
            "coupon_id": movement.coupon_id,
            "facts": Jsonb(
                [
                    {"product_id": p.product_id, "product_name": p.product_name, "amount": p.amount}
                    for p in movement.products
                ]
            ),
            "commission_key": movement.commission_key,
            "commission_kind": domain.COMMISSION_OF[movement.kind],
            "commission_entries": _entries_json(domain.COMMISSION_OF[movement.kind], commission),
        },
    )
    return row["id"] is not None


def _commission_reversal(uow, partner_id: str, movement: Movement, on: date) -> tuple[int, int]:
    """The commission a refund gives back, at the rate of the original sale
    (domain.commission_reversal_for). A refund never comes without its sale:
    orders book refunds before completion with the sale (domain.py), so a
    refund seen first is retried by the consumer until its sale is there."""
    row = uow.fetch_one(
        """SELECT t.commission_bps AS sale_bps,
                  (SELECT sum(e.debit) FROM ledger_entries e
                    WHERE e.transaction_id = t.id AND e.account = 'customer_funds') AS sale,
                  (SELECT sum(e.debit) FROM ledger_transactions r JOIN ledger_entries e ON e.transaction_id = r.id
                    WHERE r.partner_id = %(p)s AND r.source_ref = %(ref)s AND r.source = %(src)s
                      AND r.kind = 'refund' AND e.account = 'partner_payable') AS refunded
             FROM ledger_transactions t
            WHERE t.partner_id = %(p)s AND t.source_ref = %(ref)s AND t.source = %(src)s AND t.kind = 'sale'""",
        {"p": partner_id, "ref": movement.source_ref, "src": movement.source},
    )
    if row is None:
        raise errors.sale_not_booked_yet(movement.source, movement.source_ref)
    reversal = domain.commission_reversal_for(
        int(row["sale"] or 0), int(row["refunded"] or 0), movement.amount, row["sale_bps"]
    )
    return reversal, row["sale_bps"]


def list_transactions(
    uow, partner_id: str, date_from: date | None, date_to: date | None, after: tuple | None, limit: int
) -> list[dict]:
    """Ledger transactions in date order, each with its entries."""
    rows = uow.fetch_all(
        """SELECT id, kind, source, source_ref, business_date, occurred_at, recorded_at, commission_bps,
                  discount_amount, coupon_id
           FROM ledger_transactions
           WHERE partner_id = %(p)s
             AND (%(from)s::date IS NULL OR business_date >= %(from)s)
             AND (%(to)s::date IS NULL OR business_date <= %(to)s)
             AND (%(after_date)s::date IS NULL OR (business_date, id) > (%(after_date)s, %(after_id)s))
           ORDER BY business_date, id LIMIT %(limit)s""",
        {
            "p": partner_id,
            "from": date_from,
            "to": date_to,
            "after_date": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    entries = (
        uow.fetch_all(
            "SELECT transaction_id, account, debit, credit FROM ledger_entries "
            "WHERE partner_id = %s AND transaction_id = ANY(%s) ORDER BY id",
            (partner_id, [r["id"] for r in rows]),
        )
        if rows
        else []
    )
    by_txn: dict[int, list] = {}
    for e in entries:
        by_txn.setdefault(e["transaction_id"], []).append(
            {"account": e["account"], "debit": e["debit"], "credit": e["credit"]}
        )
    for r in rows:
        r["entries"] = by_txn.get(r["id"], [])
    return rows


def unbalanced_transactions(uow, partner_id: str | None = None) -> list[dict]:
    """Transactions whose debits differ from their credits (there must be none)."""
    return uow.fetch_all(
        """SELECT t.id, coalesce(sum(e.debit), 0) AS debits, coalesce(sum(e.credit), 0) AS credits, count(e.id) AS entries
           FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
           WHERE %(p)s::text IS NULL OR t.partner_id = %(p)s
           GROUP BY t.id HAVING coalesce(sum(e.debit), 0) <> coalesce(sum(e.credit), 0) OR count(e.id) < 2""",
        {"p": partner_id},
    )


def partner_net(uow, partner_id: str) -> int:
    row = uow.fetch_one(
        "SELECT coalesce(sum(credit - debit), 0) AS net FROM ledger_entries "
        "WHERE partner_id = %s AND account = 'partner_payable'",
        (partner_id,),
    )
    return int(row["net"])


def unsettled_net(uow, partner_id: str) -> int:
    row = uow.fetch_one(
        """SELECT coalesce(sum(e.credit - e.debit), 0) AS net FROM ledger_entries e
           WHERE e.partner_id = %s AND e.account = 'partner_payable'
             AND NOT EXISTS (SELECT 1 FROM statement_lines l WHERE l.transaction_id = e.transaction_id)""",
        (partner_id,),
    )
    return int(row["net"])


def ledger_totals(uow, partner_id: str | None, period_start: date, period_end: date) -> list[dict]:
    """Gross sales, fees and refunds per partner and source over business dates (reconciliation)."""
    return uow.fetch_all(
        """SELECT t.partner_id, t.source,
                  coalesce(sum(e.credit) FILTER (WHERE t.kind = 'sale'), 0) AS sales,
                  coalesce(sum(e.credit) FILTER (WHERE t.kind = 'fee'), 0) AS fees,
                  coalesce(sum(e.debit) FILTER (WHERE t.kind = 'refund'), 0) AS refunds
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id AND e.account = 'partner_payable'
           WHERE t.business_date BETWEEN %(start)s AND %(end)s AND t.kind IN ('sale', 'fee', 'refund')
             AND (%(p)s::text IS NULL OR t.partner_id = %(p)s)
           GROUP BY t.partner_id, t.source ORDER BY t.partner_id, t.source""",
        {"p": partner_id, "start": period_start, "end": period_end},
    )


# --- settlement runs -----------------------------------------------------------


def run_for_period(uow, period_end: date) -> dict | None:
    return uow.fetch_one(
        "SELECT id, period_end, actor, created_at FROM settlement_runs WHERE period_end = %s", (period_end,)
    )


def latest_run_end(uow) -> date | None:
    row = uow.fetch_one("SELECT max(period_end) AS latest FROM settlement_runs")
    return row["latest"]


def lock_runs(uow) -> None:
    uow.execute("SELECT pg_advisory_xact_lock(hashtextextended('settlement-runs', 7))")


def create_run(uow, period_end: date, actor: str) -> dict | None:
    return uow.fetch_one(
        "INSERT INTO settlement_runs (period_end, actor) VALUES (%s, %s) RETURNING id, period_end, actor, created_at",
        (period_end, actor),
    )


def pick_unsettled(uow, up_to: date, partner_id: str | None = None) -> list[str]:
    """Snapshot the unsettled transactions up to ``up_to`` into a temporary table
    (one snapshot for totals and lines alike); returns the partners concerned."""
    uow.execute("DROP TABLE IF EXISTS run_pick")
    uow.execute(
        """CREATE TEMP TABLE run_pick ON COMMIT DROP AS
           SELECT t.id, t.partner_id, t.kind, t.business_date,
                  sum(e.credit - e.debit) FILTER (WHERE e.account = 'partner_payable') AS effect
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
           WHERE t.business_date <= %(up_to)s AND (%(p)s::text IS NULL OR t.partner_id = %(p)s)
             AND NOT EXISTS (SELECT 1 FROM statement_lines l WHERE l.transaction_id = t.id)
           GROUP BY t.id""",
        {"up_to": up_to, "p": partner_id},
    )
    uow.execute("CREATE INDEX ON run_pick (partner_id, business_date)")
    return [r["partner_id"] for r in uow.fetch_all("SELECT DISTINCT partner_id FROM run_pick ORDER BY partner_id")]


def picked_effects(uow, partner_id: str, up_to: date) -> tuple[dict[str, int], date | None]:
    rows = uow.fetch_all(
        "SELECT kind, sum(effect) AS effect, min(business_date) AS first FROM run_pick "
        "WHERE partner_id = %s AND business_date <= %s GROUP BY kind",
        (partner_id, up_to),
    )
    first = min((r["first"] for r in rows), default=None)
    return {r["kind"]: int(r["effect"] or 0) for r in rows}, first


def last_statement(uow, partner_id: str) -> dict | None:
    return uow.fetch_one(
        "SELECT id, period_end, carried_out FROM statements WHERE partner_id = %s ORDER BY period_end DESC LIMIT 1",
        (partner_id,),
    )


def insert_statement(
    uow, run_id: int, partner_id: str, period_start: date, period_end: date, figures: domain.StatementFigures
) -> dict:
    row = uow.fetch_one(
        """INSERT INTO statements (run_id, partner_id, period_start, period_end, sales, fees, refunds, commission,
                                   net, carried_in, payout_amount, carried_out)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
        (
            run_id,
            partner_id,
            period_start,
            period_end,
            figures.sales,
            figures.fees,
            figures.refunds,
            figures.commission,
            figures.net,
            figures.carried_in,
            figures.payout_amount,
            figures.carried_out,
        ),
    )
    uow.execute(
        "INSERT INTO statement_lines (transaction_id, statement_id) "
        "SELECT id, %s FROM run_pick WHERE partner_id = %s AND business_date <= %s",
        (row["id"], partner_id, period_end),
    )
    return row


def insert_payout(uow, statement: dict, pay_date: date) -> dict:
    return uow.fetch_one(
        """INSERT INTO payouts (id, statement_id, partner_id, amount, pay_date, period_start, period_end)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, amount, pay_date, period_start, period_end""",
        (
            uuid.uuid4(),
            statement["id"],
            statement["partner_id"],
            statement["payout_amount"],
            pay_date,
            statement["period_start"],
            statement["period_end"],
        ),
    )


def insert_tax_invoice(uow, statement: dict, amounts: domain.InvoiceAmounts) -> dict:
    """The partner's next sequential number (runs are serialised by lock_runs)."""
    seq = uow.fetch_one(
        "SELECT coalesce(max(seq), 0) + 1 AS seq FROM tax_invoices WHERE partner_id = %s", (statement["partner_id"],)
    )["seq"]
    return uow.fetch_one(
        """INSERT INTO tax_invoices (id, statement_id, partner_id, seq, invoice_number, supply_amount, vat_amount,
                                     total_amount, period_start, period_end)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           RETURNING id, seq, invoice_number, supply_amount, vat_amount, total_amount, period_start, period_end,
                     issued_at""",
        (
            uuid.uuid4(),
            statement["id"],
            statement["partner_id"],
            seq,
            domain.invoice_number(seq),
            amounts.supply_amount,
            amounts.vat_amount,
            amounts.total_amount,
            statement["period_start"],
            statement["period_end"],
        ),
    )


def settle_period(uow, run_id: int, run_period_end: date, partner_id: str | None = None) -> list[dict]:
    """Close the period ending ``run_period_end`` for every partner with
    unsettled transactions (or for one): statement, payout when positive,
    tax invoice, and their events. A partner already settled up to its
    schedule's period end is skipped, so running a period twice adds nothing."""
    from . import events  # payload builders

    settled = []
    for partner in pick_unsettled(uow, run_period_end, partner_id):
        schedule = payout_schedule(uow, partner)
        period_end = domain.schedule_period_end(schedule["schedule"], run_period_end)
        previous = last_statement(uow, partner)
        if previous and period_end <= previous["period_end"]:
            continue  # late arrivals for a settled period wait for the next one
        effects, first_date = picked_effects(uow, partner, period_end)
        if first_date is None:
            continue  # nothing up to this partner's period end
        period_start = previous["period_end"] + timedelta(days=1) if previous else first_date
        figures = domain.statement_figures(effects, previous["carried_out"] if previous else 0)
        statement = insert_statement(uow, run_id, partner, period_start, period_end, figures)
        invoice = insert_tax_invoice(uow, statement, domain.invoice_amounts(figures.commission))
        uow.publish("tax_invoice.issued", events.tax_invoice_issued(statement, invoice), partner_id=partner)
        payout = None
        if figures.payout_amount > 0:
            payout = insert_payout(uow, statement, domain.pay_date(period_end, schedule["delay_days"]))
            uow.publish("payout.scheduled", events.payout_scheduled(statement, payout, invoice), partner_id=partner)
        settled.append({"statement": statement, "payout": payout, "invoice": invoice})
    return settled


def run_statements(uow, run_id: int) -> list[dict]:
    return uow.fetch_all(
        """SELECT s.*, p.id AS payout_id, p.pay_date, i.invoice_number, i.supply_amount, i.vat_amount, i.total_amount
           FROM statements s LEFT JOIN payouts p ON p.statement_id = s.id
           LEFT JOIN tax_invoices i ON i.statement_id = s.id
           WHERE s.run_id = %s ORDER BY s.partner_id""",
        (run_id,),
    )


def list_payouts(uow, partner_id: str, before_statement: int | None, limit: int) -> list[dict]:
    """Statements with their payout (none when the period was carried forward), newest first."""
    return uow.fetch_all(
        """SELECT s.id AS statement_id, s.period_start, s.period_end, s.sales, s.fees, s.refunds, s.commission,
                  s.net, s.carried_in, s.payout_amount, s.carried_out, p.id AS payout_id, p.pay_date,
                  i.invoice_number
           FROM statements s LEFT JOIN payouts p ON p.statement_id = s.id
           LEFT JOIN tax_invoices i ON i.statement_id = s.id
           WHERE s.partner_id = %s AND (%s::bigint IS NULL OR s.id < %s)
           ORDER BY s.id DESC LIMIT %s""",
        (partner_id, before_statement, before_statement, limit),
    )


def list_tax_invoices(uow, partner_id: str, before_seq: int | None, limit: int) -> list[dict]:
    return uow.fetch_all(
        """SELECT id, seq, invoice_number, supply_amount, vat_amount, total_amount, period_start, period_end, issued_at
           FROM tax_invoices WHERE partner_id = %s AND (%s::int IS NULL OR seq < %s)
           ORDER BY seq DESC LIMIT %s""",
        (partner_id, before_seq, before_seq, limit),
    )


def payout_totals(uow, partner_id: str) -> int:
    row = uow.fetch_one("SELECT coalesce(sum(amount), 0) AS paid FROM payouts WHERE partner_id = %s", (partner_id,))
    return int(row["paid"])


# --- sales summary and dashboard (R-STL-4) -----------------------------------


def sales_by_day(uow, partner_id: str, date_from: date, date_to: date) -> list[dict]:
    return uow.fetch_all(
        """SELECT t.business_date AS date,
                  coalesce(sum(e.credit) FILTER (WHERE t.kind = 'sale'), 0) AS sales,
                  count(*) FILTER (WHERE t.kind = 'sale') AS sales_count,
                  coalesce(sum(t.discount_amount) FILTER (WHERE t.kind = 'sale'), 0) AS discounts,
                  coalesce(sum(e.credit) FILTER (WHERE t.kind = 'fee'), 0) AS fees,
                  coalesce(sum(e.debit) FILTER (WHERE t.kind = 'refund'), 0) AS refunds,
                  coalesce(sum(e.debit) FILTER (WHERE t.kind = 'commission'), 0)
                    - coalesce(sum(e.credit) FILTER (WHERE t.kind = 'commission_reversal'), 0) AS commission
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id AND e.account = 'partner_payable'
           WHERE t.partner_id = %s AND t.business_date BETWEEN %s AND %s
           GROUP BY t.business_date ORDER BY t.business_date""",
        (partner_id, date_from, date_to),
    )


def sales_by_product(uow, partner_id: str, date_from: date, date_to: date) -> list[dict]:
    return uow.fetch_all(
        """SELECT product_id, max(product_name) AS product_name,
                  coalesce(sum(amount) FILTER (WHERE kind = 'sale'), 0) AS sales,
                  count(DISTINCT transaction_id) FILTER (WHERE kind = 'sale') AS sales_count,
                  coalesce(sum(amount) FILTER (WHERE kind = 'fee'), 0) AS fees,
                  coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunds
           FROM sales_facts WHERE partner_id = %s AND business_date BETWEEN %s AND %s
           GROUP BY product_id ORDER BY sales DESC, product_id""",
        (partner_id, date_from, date_to),
    )


def next_and_last_payout(uow, partner_id: str, today: date) -> tuple[dict | None, dict | None]:
    upcoming = uow.fetch_one(
        "SELECT amount, pay_date, period_start, period_end FROM payouts "
        "WHERE partner_id = %s AND pay_date > %s ORDER BY pay_date LIMIT 1",
        (partner_id, today),
    )
    last = uow.fetch_one(
        "SELECT amount, pay_date, period_start, period_end FROM payouts "
        "WHERE partner_id = %s AND pay_date <= %s ORDER BY pay_date DESC LIMIT 1",
        (partner_id, today),
    )
    return upcoming, last


# --- retention (R-STL-5) -------------------------------------------------------


def purge_expired(uow, cutoff: date) -> dict[str, int]:
    """Remove settled records dated before ``cutoff``: statements whose period
    ended before it, with their payouts, invoices and the ledger transactions
    they settled. Unsettled money is never purged."""
    uow.execute("SET LOCAL settlement.retention_purge = 'on'")
    uow.execute("DROP TABLE IF EXISTS purge_statements, purge_transactions")
    uow.execute(
        "CREATE TEMP TABLE purge_statements ON COMMIT DROP AS SELECT id FROM statements WHERE period_end < %s",
        (cutoff,),
    )
    uow.execute(
        "CREATE TEMP TABLE purge_transactions ON COMMIT DROP AS SELECT transaction_id AS id "
        "FROM statement_lines WHERE statement_id IN (SELECT id FROM purge_statements)"
    )
    counts = {}
    for table, column, picked in (
        ("payouts", "statement_id", "purge_statements"),
        ("tax_invoices", "statement_id", "purge_statements"),
        ("statement_lines", "statement_id", "purge_statements"),
        ("statements", "id", "purge_statements"),
        ("ledger_entries", "transaction_id", "purge_transactions"),
        ("sales_facts", "transaction_id", "purge_transactions"),
        ("ledger_transactions", "id", "purge_transactions"),
    ):
        counts[table] = uow.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM {picked})").rowcount
    uow.execute("SET LOCAL settlement.retention_purge = 'off'")
    return counts
