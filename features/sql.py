"""The feature definitions as DuckDB SQL, one query per source, all bounded by the cutoff.

Each query reads a table of the staged shape (`purchases`, `complaints`, `interactions`,
`customers`) with naive UTC `TIMESTAMP` columns and sees only rows before the end of the
`as_of` day. Windows are "the N days up to and including as_of": `d > as_of - N`.
"""

from __future__ import annotations

import datetime as dt

from features.catalog import (
    COMPLAINT_CATEGORIES,
    INTERACTION_CHANNELS,
    INTERACTION_TYPES,
    category_feature,
    channel_feature,
    type_feature,
)

BAD_RATING = 0.25  # a CSAT of 1 or 2 out of 5, or "Bad"
DETRACTOR_RATING = 0.6  # NPS 0-6 on the 0-1 scale (CSAT 1-3 falls below it too)
REPEAT_COMPLAINT_DAYS = 14
# Satisfaction surveys go out when a ticket is solved and answers come in over the next days,
# but exports carry only the answer, not when it was given. Counting a rating as known from
# the resolution moment would let answers given later reach earlier cutoffs, so a rating
# (and a missing answer) counts only from this many days after the resolution.
RATING_DELAY_DAYS = 3
# Own-history baselines: the usual rate is measured before the recent window, over at least
# this many days, so a recent slowdown does not dilute the rate it is compared with.
ORDER_BASELINE_WINDOW, INTERACTION_BASELINE_WINDOW, MIN_BASELINE_DAYS = 90, 60, 90


def poisson_surprise_sql(count: str, expected: str) -> str:
    """SQL for -ln P(X <= count) with X ~ Poisson(expected); needs expected > 0.

    How unlikely so few events are at the customer's own usual rate (0 = not at all). The
    sum runs in log space (log-sum-exp) so a large expected count cannot underflow to ln(0).
    """
    k, lam = f"CAST({count} AS BIGINT)", f"({expected})"
    # the largest pmf term over 0..k sits at the mode min(k, floor(lam)); dividing it out
    # keeps every exp() in range
    mode = f"least({k}, CAST(floor({lam}) AS BIGINT))"
    top = f"({mode} * ln({lam}) - lgamma({mode} + 1))"
    term = f"exp(i * ln({lam}) - lgamma(i + 1) - {top})"
    terms = f"list_transform(range(0, {k} + 1), lambda i: {term})"
    # greatest() skips NULLs, so an unknown expected count is kept unknown explicitly
    return (f"CASE WHEN {lam} IS NOT NULL "
            f"THEN greatest({lam} - {top} - ln(list_sum({terms})), 0.0) END")


def _bounds(as_of: dt.date) -> tuple[str, str]:
    day = f"DATE '{as_of.isoformat()}'"
    cut = f"(TIMESTAMP '{as_of.isoformat()}' + INTERVAL 1 DAY)"
    return day, cut


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rfm_sql(as_of: dt.date) -> str:
    d, cut = _bounds(as_of)
    done = "ok"
    # One hash aggregation over the orders; the gaps between order days come from each
    # customer's own sorted list of days (small sorts, no global window sort).
    return f"""
    WITH p AS (
        -- Exact decimal sums: double sums depend on the order threads add them in, which
        -- would make the same history give (slightly) different features and snapshot hashes.
        SELECT customer_id, CAST(order_date AS DATE) AS d, CAST(amount AS DECIMAL(18, 4)) AS amount,
               status = 'completed' AS ok, status = 'returned' AS returned
        FROM purchases WHERE order_date < {cut}
    ),
    agg AS (
        SELECT customer_id,
            date_diff('day', max(d) FILTER (WHERE {done}), {d}) AS recency_days,
            date_diff('day', min(d) FILTER (WHERE {done}), {d}) AS tenure_days,
            max(d) FILTER (WHERE {done}) AS last_purchase_date,
            count(*) FILTER (WHERE {done} AND d > {d} - 30) AS orders_30d,
            count(*) FILTER (WHERE {done} AND d > {d} - 90) AS orders_90d,
            count(*) FILTER (WHERE {done} AND d > {d} - 180) AS orders_180d,
            count(*) FILTER (WHERE {done} AND d > {d} - 365) AS orders_365d,
            count(*) FILTER (WHERE {done}) AS orders_lifetime,
            coalesce(sum(amount) FILTER (WHERE {done} AND d > {d} - 30), 0) AS spend_30d,
            coalesce(sum(amount) FILTER (WHERE {done} AND d > {d} - 90), 0) AS spend_90d,
            coalesce(sum(amount) FILTER (WHERE {done} AND d > {d} - 180), 0) AS spend_180d,
            coalesce(sum(amount) FILTER (WHERE {done} AND d > {d} - 365), 0) AS spend_365d,
            sum(amount) FILTER (WHERE {done}) AS spend_lifetime,
            count(*) FILTER (WHERE {done} AND d > {d} - 180 AND d <= {d} - 90)
                AS orders_prev_90d,
            coalesce(sum(amount) FILTER (WHERE {done} AND d > {d} - 180 AND d <= {d} - 90), 0)
                AS spend_prev_90d,
            count(*) FILTER (WHERE returned) AS n_returned,
            list_sort(list(d) FILTER (WHERE {done})) AS days
        FROM p GROUP BY customer_id
        HAVING count(*) FILTER (WHERE {done}) > 0
    ),
    cadence AS (
        SELECT * EXCLUDE (days, n_returned),
            n_returned / (n_returned + orders_lifetime) AS return_share,
            list_transform(range(1, len(days)), lambda i: date_diff('day', days[i], days[i + 1]))
                AS gaps
        FROM agg
    ),
    stats AS (
        SELECT * EXCLUDE (gaps),
            CASE WHEN len(gaps) >= 1 THEN list_median(gaps) END AS median_interval_days,
            CASE WHEN len(gaps) >= 2 THEN list_stddev_samp(gaps) END AS interval_std_days
        FROM cadence
    )
    SELECT *,
        spend_lifetime / orders_lifetime AS avg_order_value,
        CASE WHEN median_interval_days IS NOT NULL
             THEN recency_days / greatest(median_interval_days, 1) END AS overdue_ratio,
        CAST(orders_lifetime = 1 AS INTEGER) AS is_one_time_buyer,
        CASE WHEN orders_90d + orders_prev_90d = 0 THEN 0.0
             ELSE (orders_90d - orders_prev_90d) / (orders_90d + orders_prev_90d) END
             AS orders_change_90d,
        CASE WHEN spend_90d + spend_prev_90d <= 0 THEN 0.0
             ELSE (spend_90d - spend_prev_90d) / (spend_90d + spend_prev_90d) END
             AS spend_change_90d,
        usual_orders_per_30d,
        orders_90d / (3 * usual_orders_per_30d) AS orders_90d_vs_usual,
        {poisson_surprise_sql("orders_30d", "usual_orders_per_30d")} AS orders_surprise_30d,
        {poisson_surprise_sql("orders_90d", "3 * usual_orders_per_30d")} AS orders_surprise_90d,
        recency_days * usual_orders_per_30d / 30 AS order_silence_surprise
    FROM (
        SELECT *,
            -- orders before the last 90 days per 30 days of history between the first order
            -- and the start of that window (ages 90 ... tenure_days)
            CASE WHEN tenure_days - {ORDER_BASELINE_WINDOW} + 1 >= {MIN_BASELINE_DAYS}
                 THEN 30.0 * (orders_lifetime - orders_90d)
                      / (tenure_days - {ORDER_BASELINE_WINDOW} + 1) END AS usual_orders_per_30d
        FROM stats
    )
    """


def complaint_sql(as_of: dt.date) -> str:
    d, cut = _bounds(as_of)
    known = ", ".join(_quote(c) for c in COMPLAINT_CATEGORIES)
    by_category = ",\n".join(
        f"count(*) FILTER (WHERE od > {d} - 90 AND category = {_quote(c)}) "
        f"AS {category_feature(c)}"
        for c in COMPLAINT_CATEGORIES
    )
    return f"""
    WITH c AS (
        SELECT customer_id, opened_at, CAST(opened_at AS DATE) AS od, category,
               -- a resolution after the cutoff is unknown at the cutoff
               CASE WHEN resolved_at < {cut} THEN resolved_at END AS resolved_at,
               -- exports carry no answer time: a rating counts as known once the survey
               -- window after the resolution has passed (see RATING_DELAY_DAYS)
               resolved_at + INTERVAL {RATING_DELAY_DAYS} DAY < {cut} AS survey_closed,
               CASE WHEN resolved_at + INTERVAL {RATING_DELAY_DAYS} DAY < {cut}
                    THEN satisfaction END AS satisfaction
        FROM complaints WHERE opened_at < {cut}
    ),
    seq AS (
        SELECT *, date_diff('day', lag(od) OVER (PARTITION BY customer_id ORDER BY opened_at), od)
                  AS days_after_previous
        FROM c
    )
    SELECT customer_id,
        count(*) FILTER (WHERE od > {d} - 30) AS complaints_30d,
        count(*) FILTER (WHERE od > {d} - 90) AS complaints_90d,
        count(*) FILTER (WHERE od > {d} - 365) AS complaints_365d,
        date_diff('day', max(od), {d}) AS days_since_last_complaint,
        count(*) FILTER (WHERE resolved_at IS NULL) AS open_complaints,
        date_diff('day', min(od) FILTER (WHERE resolved_at IS NULL), {d})
            AS oldest_open_complaint_days,
        median(epoch(resolved_at - opened_at) / 86400.0)
            FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365) AS median_resolution_days_365d,
        max(epoch(resolved_at - opened_at) / 86400.0)
            FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365) AS max_resolution_days_365d,
        count(*) FILTER (WHERE od > {d} - 365 AND days_after_previous <= {REPEAT_COMPLAINT_DAYS})
            AS repeat_complaints_365d,
        {by_category},
        count(*) FILTER (WHERE od > {d} - 90 AND (category IS NULL OR category NOT IN ({known})))
            AS {category_feature("other")},
        arg_max(satisfaction, resolved_at) FILTER (WHERE satisfaction IS NOT NULL)
            AS last_satisfaction,
        max(resolved_at) FILTER (WHERE satisfaction IS NOT NULL) AS last_rated_at,
        min(satisfaction) FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365)
            AS worst_satisfaction_365d,
        count(*) FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365 AND survey_closed
                         AND satisfaction IS NULL) AS unrated_resolved_365d,
        coalesce(CAST(arg_max(satisfaction IS NULL, resolved_at) FILTER (WHERE survey_closed)
                      AS INTEGER), 0) AS surveyed_no_answer
    FROM seq GROUP BY customer_id
    """


def engagement_sql(as_of: dt.date) -> str:
    d, cut = _bounds(as_of)
    breakdown = []
    for days in (30, 90):
        breakdown += [
            f"count(*) FILTER (WHERE d > {d} - {days} AND channel = {_quote(ch)}) "
            f"AS {channel_feature(ch, days)}"
            for ch in INTERACTION_CHANNELS
        ]
        breakdown += [
            f"count(*) FILTER (WHERE d > {d} - {days} AND type = {_quote(kind)}) "
            f"AS {type_feature(kind, days)}"
            for kind in INTERACTION_TYPES
        ]
    w = INTERACTION_BASELINE_WINDOW
    counts = f"""
    WITH i AS (
        SELECT customer_id, CAST(occurred_at AS DATE) AS d, direction, type, channel
        FROM interactions WHERE occurred_at < {cut}
    )
    SELECT customer_id,
        count(*) FILTER (WHERE d > {d} - 30) AS interactions_30d,
        count(*) FILTER (WHERE d > {d} - 90) AS interactions_90d,
        count(*) FILTER (WHERE d > {d} - 90 AND d <= {d} - 30) AS interactions_prev_60d,
        date_diff('day', max(d), {d}) AS days_since_last_interaction,
        count(*) FILTER (WHERE d > {d} - 90 AND direction = 'inbound') AS inbound_90d,
        count(*) FILTER (WHERE d > {d} - 90 AND direction = 'outbound') AS outbound_90d,
        {", ".join(breakdown)},
        CAST(bool_or(type = 'newsletter_unsubscribe') AS INTEGER) AS unsubscribed,
        count(*) FILTER (WHERE d > {d} - 60) AS interactions_60d,
        -- interactions before the last 60 days per day of history since the first one; empty
        -- when that history is shorter than the minimum baseline
        CASE WHEN date_diff('day', min(d), {d}) - {w} + 1 >= {MIN_BASELINE_DAYS}
             THEN count(*) FILTER (WHERE d <= {d} - {w})
                  / (date_diff('day', min(d), {d}) - {w} + 1) END AS usual_per_day
    FROM i GROUP BY customer_id
    """


    surprise_30d = poisson_surprise_sql("interactions_30d", "30 * usual_per_day")
    surprise_60d = poisson_surprise_sql("interactions_60d", "60 * usual_per_day")
    # Without a baseline there is no evidence of a drop: the surprises read 0.
    return f"""
    SELECT * EXCLUDE (interactions_60d, usual_per_day),
        CASE WHEN usual_per_day > 0 THEN {surprise_30d} ELSE 0.0 END AS interactions_surprise_30d,
        CASE WHEN usual_per_day > 0 THEN {surprise_60d} ELSE 0.0 END AS interactions_surprise_60d,
        coalesce(days_since_last_interaction * usual_per_day, 0.0) AS interaction_silence_surprise
    FROM ({counts})
    """


def profile_sql(as_of: dt.date) -> str:
    d, _ = _bounds(as_of)
    # A signup date after the cutoff is not known at the cutoff.
    return f"""
    SELECT customer_id, segment, region,
        CASE WHEN CAST(signup_date AS DATE) <= {d}
             THEN date_diff('day', CAST(signup_date AS DATE), {d}) END AS account_age_days
    FROM customers
    """


def cancelled_sql(as_of: dt.date) -> str:
    _, cut = _bounds(as_of)
    return f"SELECT DISTINCT customer_id FROM customers WHERE cancelled_at < {cut}"
