-- A hold's lines live in its own row (one write per hold instead of two):
-- [{line, product_id, quantity, released, bucket_keys}].
ALTER TABLE holds ADD COLUMN lines jsonb NOT NULL DEFAULT '[]';
UPDATE holds h SET lines = coalesce((
    SELECT jsonb_agg(jsonb_build_object('line', l.line, 'product_id', l.product_id::text, 'quantity', l.quantity,
                                        'released', l.released, 'bucket_keys', to_jsonb(l.bucket_keys))
                     ORDER BY l.line)
    FROM hold_lines l WHERE l.hold_id = h.hold_id), '[]');
DROP TABLE hold_lines;
