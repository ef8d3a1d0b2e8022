-- insights (issue #11): what statistics read of orders, kept in step with ``orders``
-- like the bookings' rollups (store.apply_order): per day and state, and the
-- completed orders' shares per day and product. A cafe with 100,000 orders a
-- year is then a few thousand rows a year here, as bookings are.
CREATE TABLE order_days (
    partner_id  text NOT NULL,
    stat_date   date NOT NULL,
    status      text NOT NULL,
    orders      integer NOT NULL,
    sales       bigint NOT NULL,        -- totals of the completed ones
    refunds     bigint NOT NULL,        -- refunded on the completed ones
    PRIMARY KEY (partner_id, stat_date, status)
);

CREATE TABLE order_product_days (
    partner_id  text NOT NULL,
    stat_date   date NOT NULL,
    product_id  text NOT NULL,
    sales       bigint NOT NULL,
    refunds     bigint NOT NULL,
    PRIMARY KEY (partner_id, stat_date, product_id)
);

-- Statistics no longer read the orders by day.
DROP INDEX orders_by_day;

-- Anything already in orders (a database made by 0001 alone) is counted in.
INSERT INTO order_days (partner_id, stat_date, status, orders, sales, refunds)
SELECT partner_id, stat_date, status, count(*),
       coalesce(sum(total) FILTER (WHERE status = 'completed'), 0),
       coalesce(sum(refunded_total) FILTER (WHERE status = 'completed'), 0)
FROM orders GROUP BY partner_id, stat_date, status;

INSERT INTO order_product_days (partner_id, stat_date, product_id, sales, refunds)
SELECT o.partner_id, o.stat_date, op.product_id, sum(op.sales), sum(op.refunds)
FROM orders o JOIN order_products op ON op.partner_id = o.partner_id AND op.order_id = o.order_id
WHERE o.status = 'completed' GROUP BY o.partner_id, o.stat_date, op.product_id;
