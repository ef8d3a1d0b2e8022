"""Payloads of the events settlement publishes (chassis.contracts.PayoutScheduled)."""

from __future__ import annotations


def payout_scheduled(statement: dict, payout: dict, invoice: dict | None) -> dict:
    """payout.scheduled (R-STL-2): the partner's next payout and when it is paid."""
    return {
        "partner_id": statement["partner_id"],
        "period_start": statement["period_start"].isoformat(),
        "period_end": statement["period_end"].isoformat(),
        "amount": payout["amount"],
        "payout_id": str(payout["id"]),
        "pay_date": payout["pay_date"].isoformat(),
        "invoice_number": invoice["invoice_number"] if invoice else None,
    }


def tax_invoice_issued(statement: dict, invoice: dict) -> dict:
    """tax_invoice.issued (R-STL-3): ``amount`` is the invoice total (VAT included)."""
    return {
        "partner_id": statement["partner_id"],
        "period_start": statement["period_start"].isoformat(),
        "period_end": statement["period_end"].isoformat(),
        "amount": invoice["total_amount"],
        "invoice_number": invoice["invoice_number"],
    }
