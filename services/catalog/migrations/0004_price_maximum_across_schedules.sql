-- R-CAT-2 (issue 17 item 4): a price's maximum counts across every booking of
-- the product, "whatever schedule was picked": the per-slot/date/period rows
-- price:<price_id>:<unit> become one row price:<price_id>, and the holds that
-- took from them point at it.
INSERT INTO capacity_buckets (product_id, bucket_key, kind, capacity, taken)
SELECT product_id, 'price:' || split_part(bucket_key, ':', 2), 'price', max(capacity), sum(taken)
FROM capacity_buckets WHERE kind = 'price' AND bucket_key LIKE 'price:%:%'
GROUP BY product_id, split_part(bucket_key, ':', 2)
ON CONFLICT (product_id, bucket_key) DO UPDATE SET taken = capacity_buckets.taken + EXCLUDED.taken;

DELETE FROM capacity_buckets WHERE kind = 'price' AND bucket_key LIKE 'price:%:%';

UPDATE holds SET lines = (
    SELECT jsonb_agg(jsonb_set(line, '{bucket_keys}', coalesce((
        SELECT jsonb_agg(CASE WHEN k LIKE 'price:%:%' THEN 'price:' || split_part(k, ':', 2) ELSE k END)
        FROM jsonb_array_elements_text(line -> 'bucket_keys') AS k), '[]'::jsonb)) ORDER BY position)
    FROM jsonb_array_elements(lines) WITH ORDINALITY AS l(line, position))
WHERE lines::text LIKE '%"price:%:%';
