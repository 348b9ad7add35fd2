"""Subscription features (the `subscriptions` group), as DuckDB SQL bounded by the cutoff.

Read from the payments (`purchases`: a completed payment is a paid invoice, a cancelled one a
failed charge) and the `subscriptions` export. Only point-in-time subscription facts are read
(`started_at`, `cancelled_at`, `ended_at`, `billing_period`, `discount_ends_at`): an export's
`plan`, `mrr`, `seats` and `status` are its state at export time and would leak later
upgrades, so MRR and its change come from what was paid, divided by the billing period.
Seats used against seats bought need a dated usage log, which no export here has: not
computed. `features.build` joins this group when a subscriptions table exists and leaves out
customers whose every subscription stopped by the cutoff (no longer customers).
"""

from __future__ import annotations

import datetime as dt

from features.contracts import BILLING_PERIOD_MONTHS


def _bounds(as_of: dt.date) -> tuple[str, str]:
    return (f"DATE '{as_of.isoformat()}'",
            f"(TIMESTAMP '{as_of.isoformat()}' + INTERVAL 1 DAY)")


def _months_case(column: str) -> str:
    cases = " ".join(f"WHEN '{name}' THEN {months}"
                     for name, months in BILLING_PERIOD_MONTHS.items())
    return f"CASE {column} {cases} END"


def _stopped(alias: str = "") -> str:
    """When a subscription stopped: its cancellation or its end, whichever came first."""
    p = f"{alias}." if alias else ""
    return f"least(coalesce({p}cancelled_at, {p}ended_at), coalesce({p}ended_at, {p}cancelled_at))"


def subscription_sql(as_of: dt.date) -> str:
    """One row per customer with a subscription or a payment: the subscriptions group."""
    d, cut = _bounds(as_of)
    return f"""
    WITH subs AS (
        SELECT customer_id, started_at, {_stopped()} AS stopped_at, discount_ends_at,
               {_months_case("billing_period")} AS months
        FROM subscriptions WHERE started_at < {cut}
    ),
    per_customer AS (
        SELECT customer_id,
            coalesce(arg_max(months, started_at), 1) AS billing_months,
            min(CAST(started_at AS DATE)) AS first_start,
            count(*) FILTER (WHERE stopped_at IS NULL OR stopped_at >= {cut})
                AS active_subscriptions,
            -- a coupon's end is fixed when it is applied: known at the cutoff; the nearest
            -- end ahead, else the latest one passed
            coalesce(min(date_diff('day', {d}, CAST(discount_ends_at AS DATE)))
                         FILTER (WHERE CAST(discount_ends_at AS DATE) >= {d}),
                     max(date_diff('day', {d}, CAST(discount_ends_at AS DATE))))
                AS discount_ends_in_days
        FROM subs GROUP BY customer_id
    ),
    pay AS (
        SELECT customer_id, CAST(order_date AS DATE) AS d, amount, status
        FROM purchases WHERE order_date < {cut}
    ),
    paid AS (
        SELECT customer_id,
            max(d) FILTER (WHERE status = 'completed') AS last_paid,
            arg_max(amount, d) FILTER (WHERE status = 'completed') AS last_amount,
            arg_max(amount, d) FILTER (WHERE status = 'completed' AND d <= {d} - 90)
                AS amount_90d_ago,
            count(*) FILTER (WHERE status = 'cancelled' AND d > {d} - 90)
                AS payment_failures_90d,
            min(d) FILTER (WHERE status = 'completed') AS first_paid
        FROM pay GROUP BY customer_id
    ),
    joined AS (
        SELECT p.customer_id, coalesce(s.billing_months, 1) AS billing_months, p.last_paid,
            p.last_amount / coalesce(s.billing_months, 1) AS mrr,
            p.amount_90d_ago / coalesce(s.billing_months, 1) AS mrr_90d_ago,
            p.payment_failures_90d, coalesce(s.active_subscriptions, 0) AS active_subscriptions,
            s.discount_ends_in_days, coalesce(s.first_start, p.first_paid) AS first_start
        FROM paid p LEFT JOIN per_customer s USING (customer_id)
    )
    SELECT customer_id, mrr, billing_months, payment_failures_90d, active_subscriptions,
        discount_ends_in_days,
        CASE WHEN mrr_90d_ago IS NULL OR mrr + mrr_90d_ago = 0 THEN 0.0
             ELSE (mrr - mrr_90d_ago) / (mrr + mrr_90d_ago) END AS mrr_change_90d,
        date_diff('month', first_start, {d}) / billing_months AS tenure_periods,
        date_diff('day', {d}, CAST(last_paid + to_months(CAST(billing_months AS INTEGER))
                                   AS DATE)) AS days_to_renewal
    FROM joined
    """


def stopped_subscribers_sql(as_of: dt.date) -> str:
    """Customers whose every subscription started by the cutoff had stopped by then."""
    _, cut = _bounds(as_of)
    return f"""
    SELECT customer_id FROM subscriptions WHERE started_at < {cut}
    GROUP BY customer_id
    HAVING count(*) FILTER (WHERE {_stopped()} IS NULL OR {_stopped()} >= {cut}) = 0
    """
